import pytest

from neurorl.rl.config import TrainConfig
from neurorl.utils.config import ConfigError, apply_overrides, config_keys


def test_dotted_override_forms_of_the_original_project():
    cfg = TrainConfig()
    for form in ("--config.agent.random_seed=7", "config.agent.random_seed=7", "agent.random_seed=7"):
        assert apply_overrides(cfg, [form]).agent.random_seed == 7
    out = apply_overrides(cfg, ["--config.a2c.gamma=0.95", "--config.optim.schedule=cosine", "--config.run.tensorboard=true"])
    assert (out.a2c.gamma, out.optim.schedule, out.run.tensorboard) == (0.95, "cosine", True)
    assert cfg.a2c.gamma == 0.9, "configs are frozen: overrides return a copy"


@pytest.mark.parametrize(
    "override, message",
    [
        ("--config.agent.nope=1", "unknown config key"),
        ("--config.a2c.num_envs=1.5", "expected an integer"),
        ("--config.a2c.gamma=abc", "expected a number"),
        ("--config.a2c.gamma=nan", "NaN"),
        ("--config.optim.schedule=exp", "expected one of"),
        ("--config.run.tensorboard=maybe", "boolean"),
        ("--config.a2c.gamma=1.5", "gamma must be in [0, 1]"),
        ("--config.a2c.num_envs=0", "num_envs must be >= 1"),
        ("--config.env.params=[1]", "JSON object"),
        ("--config.a2c.gamma", "must look like"),
    ],
)
def test_bad_overrides_say_what_was_expected(override, message):
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        apply_overrides(TrainConfig(), [override])


def test_config_round_trips_through_dict():
    cfg = apply_overrides(TrainConfig(), ["--config.agent.core=gru", "--config.env.params={\"num_arms\": 3}"])
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg
    assert "a2c.entropy_start" in config_keys(cfg)
