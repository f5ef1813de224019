"""FOLLOW (Gilra & Gerstner, eLife 2017): a recurrent spiking network that learns dynamics with a local rule.

Modules: ``neurons`` (LIF), ``nef`` (encoders, gains, decoders), ``plants`` (reference systems),
``inputs`` (command protocols), ``network`` (config, parameters, one simulation step),
``run`` (chunked lax.scan runs with checkpoints, resume and continue).
Reference: ../shared/reference/follow.md (cited as "follow.md §n").
"""
