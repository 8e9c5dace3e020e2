from iacforge.lint import required_providers


def test_flags_each_unversioned_provider_once_at_its_first_use(load_model):
    found = required_providers.check(load_model("terraform_required_providers"))
    assert {d.address for d in found} == {
        "random_pet.fail_unversioned_provider",
        "tls_private_key.fail_undeclared_provider",
    }
    assert sorted(d.summary for d in found) == [
        'Missing version constraint for provider "random" in `required_providers`',
        'Missing version constraint for provider "tls" in `required_providers`',
    ]


def test_a_version_in_the_provider_block_is_flagged_and_the_shorthand_accepted(load_model):
    found = required_providers.check(load_model("terraform_required_providers_legacy_version"))
    assert [(d.address, d.line, d.summary) for d in found] == [
        ("provider.aws", 7,
         "provider version constraint should be specified via `required_providers`"),
    ]
