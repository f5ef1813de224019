"""Neural Engineering Framework building blocks, computed by our own code (follow.md §2.1, §2.3).

- encoders uniformly on the unit hypersphere surface (normal samples, normalised);
- heterogeneous gains/biases from max rates and intercepts via the LIF closed form (``neurons.gain_bias``),
  or the Fig 2 variant: constant gain and uniform bias (follow.md §2.1 last row);
- evaluation points uniformly in the ball of the ensemble's radius;
- decoders by L2-regularised least squares over LIF rate curves:
  (AᵀA + m·σ²·I) D = AᵀY with σ = reg·max(A), m = number of evaluation points (Nengo ``LstsqL2``,
  follow.md §2.3), solved by Cholesky.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg

from neurorl.follow.neurons import LIFParams, gain_bias, lif_rate


def hypersphere_surface(n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    """n points uniform on the unit sphere S^{d-1} (follow.md §2.1 UniformHypersphere(surface=True))."""
    x = rng.standard_normal((n, d))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def hypersphere_ball(n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    """n points uniform in the unit ball: direction × u^(1/d) (follow.md §2.3)."""
    return hypersphere_surface(n, d, rng) * rng.uniform(0.0, 1.0, size=(n, 1)) ** (1.0 / d)


def default_n_eval_points(n_neurons: int, d: int) -> int:
    """max(clip(500·d, 750, 2500), 2·N) (follow.md §2.3)."""
    return int(max(np.clip(500 * d, 750, 2500), 2 * n_neurons))


@dataclass(frozen=True)
class EnsembleSpec:
    n_neurons: int
    dimensions: int
    radius: float = 1.0
    max_rates: tuple[float, float] = (200.0, 400.0)  # follow.md §2.1
    intercepts: tuple[float, float] = (-1.0, 1.0)  # follow.md §2.1 (Nengo 2.4 default)
    constant_gain: float | None = None  # Fig 2 variant: gain 2 ...
    bias_range: tuple[float, float] = (-2.0, 2.0)  # ... and bias U(-2, 2) (follow.md §2.1)


@dataclass
class Ensemble:
    encoders: np.ndarray  # (N, d) unit vectors
    gain: np.ndarray  # (N,)
    bias: np.ndarray  # (N,)
    radius: float

    @property
    def scaled_encoders(self) -> np.ndarray:
        """Ẽ = e·gain/radius: the input current is J = Ẽ·v + bias (follow.md §2.1)."""
        return self.encoders * (self.gain / self.radius)[:, None]

    def currents(self, x: np.ndarray) -> np.ndarray:
        """Input currents (m, N) for decoded values x (m, d)."""
        return x @ self.scaled_encoders.T + self.bias

    def rates(self, x: np.ndarray, lif: LIFParams = LIFParams()) -> np.ndarray:
        return lif_rate(self.currents(x), lif)


def make_ensemble(spec: EnsembleSpec, rng: np.random.Generator, lif: LIFParams = LIFParams()) -> Ensemble:
    if spec.n_neurons < 1 or spec.dimensions < 1:
        raise ValueError(f"need n_neurons >= 1 and dimensions >= 1, got {spec.n_neurons}, {spec.dimensions}")
    if not spec.radius > 0:
        raise ValueError(f"radius must be > 0, got {spec.radius}")
    n = spec.n_neurons
    # draw order (our own): max rates, intercepts, encoders
    max_rates = rng.uniform(*spec.max_rates, size=n)
    intercepts = rng.uniform(*spec.intercepts, size=n)
    encoders = hypersphere_surface(n, spec.dimensions, rng)
    if spec.constant_gain is not None:
        gain = np.full(n, float(spec.constant_gain))
        bias = rng.uniform(*spec.bias_range, size=n)
    else:
        gain, bias = gain_bias(max_rates, intercepts, lif)
    return Ensemble(encoders=encoders, gain=gain, bias=bias, radius=float(spec.radius))


def solve_lstsq_l2(A: np.ndarray, Y: np.ndarray, reg: float = 0.1) -> np.ndarray:
    """Decoders D (N, d) minimising |A D - Y|² + m σ² |D|², σ = reg·max(A) (follow.md §2.3)."""
    m, n = A.shape
    sigma = reg * A.max()
    G = A.T @ A
    G[np.diag_indices(n)] += m * sigma**2
    return scipy.linalg.cho_solve(scipy.linalg.cho_factor(G, lower=True), A.T @ Y)


def decoders_for(ens: Ensemble, rng: np.random.Generator, reg: float = 0.1, n_eval_points: int | None = None,
                 function=None, lif: LIFParams = LIFParams()) -> tuple[np.ndarray, np.ndarray]:
    """Decoders of ``function`` (identity by default) over eval points in the radius ball. Returns (D, eval_points)."""
    d = ens.encoders.shape[1]
    m = n_eval_points or default_n_eval_points(len(ens.gain), d)
    x = hypersphere_ball(m, d, rng) * ens.radius
    Y = x if function is None else np.asarray(function(x))
    return solve_lstsq_l2(ens.rates(x, lif), Y, reg), x
