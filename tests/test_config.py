"""Settings: environment overrides, and where the offline provider mirror is looked for."""

from pathlib import Path

import pytest

from iacforge import config
from iacforge.config import Settings
from iacforge.errors import ConfigError, SetupError

AWS = "registry.terraform.io/hashicorp/aws"


def mirror(root: Path) -> Path:
    """A directory laid out as a filesystem mirror holding hashicorp/aws."""
    (root / AWS / "5.100.0" / "linux_amd64").mkdir(parents=True)
    return root


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    """No IACFORGE_* or TF_CLI_CONFIG_FILE from the host; HOME is an empty directory."""
    for name in ("IACFORGE_PROVIDER_MIRROR", "IACFORGE_TIMEOUT", "IACFORGE_WORKERS",
                 "IACFORGE_TERRAFORM_BIN", "IACFORGE_REGION", "TF_CLI_CONFIG_FILE"):
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


def cli_config(tmp_path: Path, mirror_dir: Path) -> Path:
    path = tmp_path / "cli.tfrc"
    path.write_text(
        "provider_installation {\n"
        f'  filesystem_mirror {{\n    path    = "{mirror_dir}"\n    include = ["*/*"]\n  }}\n'
        '  direct {\n    exclude = ["*/*"]\n  }\n'
        "}\n"
    )
    return path


def test_the_setting_comes_first(tmp_path):
    mine = mirror(tmp_path / "mine")
    assert Settings(provider_mirror=str(mine)).mirror_path() == mine


def test_the_environment_variable_is_the_setting(monkeypatch, tmp_path):
    mine = mirror(tmp_path / "mine")
    monkeypatch.setenv("IACFORGE_PROVIDER_MIRROR", str(mine))
    assert Settings.from_env().mirror_path() == mine


def test_a_setting_without_the_provider_is_an_error_naming_it_not_a_fallback(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(SetupError) as caught:
        Settings(provider_mirror=str(empty)).mirror_path()
    message = str(caught.value)
    assert message.endswith(f"Looked in: {empty}")
    assert "IACFORGE_PROVIDER_MIRROR" in message
    assert "registry.terraform.io/hashicorp/aws" in message


def test_then_the_filesystem_mirror_of_tf_cli_config_file(monkeypatch, tmp_path, clean_env):
    mirror(clean_env / ".terraform.d/plugins")  # a usual place, which must come later
    configured = mirror(tmp_path / "configured")
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", str(cli_config(tmp_path, configured)))
    assert Settings().mirror_path() == configured


def test_then_the_usual_places_home_first(monkeypatch, tmp_path, clean_env):
    without_aws = tmp_path / "configured"
    without_aws.mkdir()
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", str(cli_config(tmp_path, without_aws)))
    implied = mirror(clean_env / ".terraform.d/plugins")
    assert Settings().mirror_path() == implied


def test_no_mirror_anywhere_is_a_setup_error_listing_every_place(monkeypatch, tmp_path):
    places = (str(tmp_path / "a"), "~/.terraform.d/plugins")
    monkeypatch.setattr(config, "_MIRROR_CANDIDATES", places)
    empty = tmp_path / "configured"
    empty.mkdir()
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", str(cli_config(tmp_path, empty)))
    with pytest.raises(SetupError) as caught:
        Settings().mirror_path()
    looked = str(caught.value).split("Looked in: ", 1)[1].split(", ")
    home_place = str(Path("~/.terraform.d/plugins").expanduser())
    assert looked == [str(empty), str(tmp_path / "a"), home_place]


def test_environment_values_are_converted_to_the_field_type(monkeypatch):
    monkeypatch.setenv("IACFORGE_TIMEOUT", "7.5")
    monkeypatch.setenv("IACFORGE_WORKERS", "3")
    monkeypatch.setenv("IACFORGE_REGION", "eu-west-1")
    settings = Settings.from_env()
    assert (settings.timeout, settings.workers, settings.region) == (7.5, 3, "eu-west-1")


def test_overrides_beat_the_environment_and_none_means_not_given(monkeypatch):
    monkeypatch.setenv("IACFORGE_TIMEOUT", "7.5")
    assert Settings.from_env(timeout=2.0).timeout == 2.0
    assert Settings.from_env(timeout=None).timeout == 7.5


def test_a_bad_environment_value_is_a_config_error_naming_the_variable(monkeypatch):
    monkeypatch.setenv("IACFORGE_WORKERS", "many")
    with pytest.raises(ConfigError, match="IACFORGE_WORKERS='many'"):
        Settings.from_env()


def test_fail_on_is_read_from_the_environment_and_checked(monkeypatch):
    assert Settings().fail_on == ()
    monkeypatch.setenv("IACFORGE_FAIL_ON", "lint,security")
    assert Settings.from_env().fail_on == ("security", "lint")
    monkeypatch.setenv("IACFORGE_FAIL_ON", "secrity")
    with pytest.raises(ConfigError, match=r"IACFORGE_FAIL_ON='secrity'.*security, lint"):
        Settings.from_env()
    with pytest.raises(ConfigError, match="'plan' is not an advisory stage"):
        Settings(fail_on=("plan",))


def test_a_missing_terraform_binary_is_a_setup_error_saying_what_to_set():
    with pytest.raises(SetupError, match="IACFORGE_TERRAFORM_BIN"):
        Settings(terraform_bin="no-such-terraform-binary").terraform_path()
