"""Identity families: Cognito user pools and clients; IAM users, groups, policies and their
attachments."""

from __future__ import annotations

from random import Random

from iacforge.data.families._words import choose, maybe, tags, words
from iacforge.data.families.security import ACTIONS, MANAGED
from iacforge.data.spec import Body, Raw, Resource

FLOWS = (("ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"),
         ("ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"),
         ("ALLOW_USER_SRP_AUTH", "ALLOW_CUSTOM_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"))


def cognito(rng: Random, region: str) -> list[Resource]:
    """A user pool (sign-in by email, a password policy), an app client, maybe a domain."""
    project, _, env = words(rng)
    attrs: dict = {"name": f"{project}-{env}-users"}
    if maybe(rng, 0.6):
        attrs |= {"username_attributes": ["email"], "auto_verified_attributes": ["email"]}
    if maybe(rng, 0.3):
        attrs["deletion_protection"] = rng.choice(("ACTIVE", "INACTIVE"))
    if t := tags(rng, project, env, p=0.3):
        attrs["tags"] = t
    blocks = ()
    if maybe(rng, 0.6):
        blocks = (("password_policy", Body({
            "minimum_length": rng.choice((8, 10, 12, 14)),
            **choose(rng, {"require_lowercase": (True, False), "require_numbers": (True, False),
                           "require_symbols": (True, False),
                           "require_uppercase": (True, False)}, p=0.6)})),)
    pool = Resource("aws_cognito_user_pool", "main", Body(attrs, blocks))
    client: dict = {"name": f"{project}-{env}-web", "user_pool_id": pool.ref(),
                    "explicit_auth_flows": list(rng.choice(FLOWS))}
    if maybe(rng, 0.5):
        client["generate_secret"] = rng.choice((True, False))
    if maybe(rng, 0.3):
        client["prevent_user_existence_errors"] = "ENABLED"
    out = [pool, Resource("aws_cognito_user_pool_client", "web", Body(client),
                          choices={"generate_secret": (True, False)})]
    if maybe(rng, 0.3):
        out.append(Resource("aws_cognito_user_pool_domain", "main", Body({
            "domain": f"{project}-{env}-{rng.randint(1000, 99999)}",
            "user_pool_id": pool.ref()})))
    return out


def _document(actions: tuple[str, ...]) -> Raw:
    listed = ", ".join(f'"{a}"' for a in actions)
    text = ('jsonencode({\n    Version = "2012-10-17"\n    Statement = [{\n'
            f'      Effect   = "Allow"\n      Action   = [{listed}]\n'
            '      Resource = "*"\n    }]\n  })')
    return Raw(text, contains=actions, phrase="allowing " + " and ".join(actions))


def iam_policy(rng: Random, region: str) -> list[Resource]:
    """A user or a group (with members), a customer policy or an inline one, attached to
    it, maybe a managed policy too."""
    project, purpose, env = words(rng)
    actions = rng.choice(ACTIONS)
    out: list[Resource] = []
    if maybe(rng, 0.5):
        attrs: dict = {"name": f"{project}-{purpose}-{env}"}
        if maybe(rng, 0.4):
            attrs["path"] = rng.choice(("/", "/system/", f"/{project}/"))
        if t := tags(rng, project, env, p=0.4):
            attrs["tags"] = t
        principal = Resource("aws_iam_user", purpose, Body(attrs))
        kind = "user"
    else:
        principal = Resource("aws_iam_group", purpose, Body({"name": f"{project}-{purpose}"}))
        kind = "group"
    out.append(principal)
    if maybe(rng, 0.4):
        out.append(Resource(f"aws_iam_{kind}_policy", purpose, Body({
            "name": f"{purpose}-inline", kind: principal.ref("name"),
            "policy": _document(actions)})))
    else:
        attrs = {"name": f"{project}-{purpose}-access", "policy": _document(actions)}
        if maybe(rng, 0.4):
            attrs["description"] = f"{purpose} access for {project}"
        policy = Resource("aws_iam_policy", purpose, Body(attrs))
        out += [policy, Resource(f"aws_iam_{kind}_policy_attachment", purpose, Body(
            {kind: principal.ref("name"), "policy_arn": policy.ref("arn")}))]
    if maybe(rng, 0.3):
        out.append(Resource(f"aws_iam_{kind}_policy_attachment", "managed", Body(
            {kind: principal.ref("name"), "policy_arn": rng.choice(MANAGED)})))
    if kind == "group" and maybe(rng, 0.6):
        member = Resource("aws_iam_user", f"{purpose}_member", Body(
            {"name": f"{project}-{purpose}-{rng.choice(('alice', 'bob', 'ci'))}"}))
        out += [member, Resource("aws_iam_user_group_membership", purpose, Body(
            {"user": member.ref("name"), "groups": [principal.ref("name")]}))]
    return out
