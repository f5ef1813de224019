"""Flax networks: recurrent actor-critics (LSTM / GRU / stacked LSTM), encoders, episodic memory."""
