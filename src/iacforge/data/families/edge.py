"""Edge families: CloudFront distributions of S3 origins, WAFv2 web ACLs, ACM certificates."""

from __future__ import annotations

from random import Random

from iacforge.data.families._words import maybe, tags, words
from iacforge.data.spec import Body, Resource

#: The managed "CachingOptimized" and "CachingDisabled" cache policies.
CACHE_POLICIES = ("658327ea-f89d-4fab-a63d-7e88639e58f6", "4135ea2d-6df8-44a3-9df3-4b5a84be39ad")


def cloudfront(rng: Random, region: str) -> list[Resource]:
    """A private S3 bucket, an origin access control, and a distribution serving it."""
    project, purpose, env = words(rng)
    bucket = Resource("aws_s3_bucket", "site", Body(
        {"bucket": f"{project}-{purpose}-site-{rng.randint(1000, 99999)}"}))
    oac = Resource("aws_cloudfront_origin_access_control", "site", Body({
        "name": f"{project}-{purpose}-oac", "origin_access_control_origin_type": "s3",
        "signing_behavior": "always", "signing_protocol": "sigv4"}))
    origin_id = f"s3-{purpose}"
    attrs: dict = {"enabled": True}
    if maybe(rng, 0.6):
        attrs["default_root_object"] = "index.html"
    if maybe(rng, 0.5):
        attrs["price_class"] = rng.choice(("PriceClass_100", "PriceClass_200", "PriceClass_All"))
    if maybe(rng, 0.4):
        attrs["comment"] = f"{project} {purpose} ({env})"
    if t := tags(rng, project, env, p=0.3):
        attrs["tags"] = t
    methods = ["GET", "HEAD"]
    blocks = (
        ("origin", Body({"domain_name": bucket.ref("bucket_regional_domain_name"),
                         "origin_id": origin_id, "origin_access_control_id": oac.ref()})),
        ("default_cache_behavior", Body({
            "target_origin_id": origin_id,
            "viewer_protocol_policy": rng.choice(("redirect-to-https", "https-only")),
            "allowed_methods": methods, "cached_methods": methods,
            "cache_policy_id": rng.choice(CACHE_POLICIES)})),
        ("restrictions", Body({}, (("geo_restriction", Body({"restriction_type": "none"})),))),
        ("viewer_certificate", Body({"cloudfront_default_certificate": True})))
    distribution = Resource("aws_cloudfront_distribution", "site", Body(attrs, blocks),
                            choices={"price_class": ("PriceClass_100", "PriceClass_200",
                                                     "PriceClass_All")})
    return [bucket, oac, distribution]


MANAGED_RULES = ("AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet",
                 "AWSManagedRulesAmazonIpReputationList", "AWSManagedRulesSQLiRuleSet")


def _visibility(metric: str) -> tuple[str, Body]:
    return ("visibility_config", Body({"cloudwatch_metrics_enabled": True,
                                       "metric_name": metric, "sampled_requests_enabled": True}))


def wafv2(rng: Random, region: str) -> list[Resource]:
    """A regional web ACL that allows by default, with a managed rule group and maybe a rule
    blocking an IP set."""
    project, _, env = words(rng)
    name = f"{project}-{env}-waf"
    rules = []
    group = rng.choice(MANAGED_RULES)
    rules.append(("rule", Body({"name": group, "priority": 1}, (
        ("override_action", Body({}, (("none", Body()),))),
        ("statement", Body({}, (("managed_rule_group_statement", Body(
            {"name": group, "vendor_name": "AWS"})),))),
        _visibility(group)))))
    out: list[Resource] = []
    if maybe(rng, 0.4):
        ips = Resource("aws_wafv2_ip_set", "blocked", Body({
            "name": f"{project}-blocked", "scope": "REGIONAL", "ip_address_version": "IPV4",
            "addresses": [f"198.51.100.{rng.randint(1, 200)}/32", "203.0.113.0/24"]}))
        out.append(ips)
        rules.append(("rule", Body({"name": "block-listed-ips", "priority": 0}, (
            ("action", Body({}, (("block", Body()),))),
            ("statement", Body({}, (("ip_set_reference_statement", Body(
                {"arn": ips.ref("arn")})),))),
            _visibility("blocked-ips")))))
    attrs: dict = {"name": name, "scope": "REGIONAL"}
    if maybe(rng, 0.4):
        attrs["description"] = f"Web ACL for {project} {env}"
    if t := tags(rng, project, env, p=0.3):
        attrs["tags"] = t
    acl = Resource("aws_wafv2_web_acl", "main", Body(attrs, (
        ("default_action", Body({}, (("allow", Body()),))), *rules, _visibility(name))))
    return [*out, acl]


def acm(rng: Random, region: str) -> list[Resource]:
    """A DNS-validated certificate for a domain and maybe alternative names, maybe with the
    hosted zone of the domain."""
    project, _, env = words(rng)
    domain = f"{project}-{env}.{rng.choice(('com', 'net', 'io', 'org'))}"
    attrs: dict = {"domain_name": rng.choice((domain, f"*.{domain}")),
                   "validation_method": "DNS"}
    if maybe(rng, 0.5):
        attrs["subject_alternative_names"] = [f"www.{domain}", f"api.{domain}"][
            :rng.randint(1, 2)]
    if maybe(rng, 0.3):
        attrs["key_algorithm"] = rng.choice(("RSA_2048", "EC_prime256v1"))
    if t := tags(rng, project, env, p=0.4):
        attrs["tags"] = t
    out = []
    if maybe(rng, 0.4):
        out.append(Resource("aws_route53_zone", "main", Body({"name": domain})))
    return [*out, Resource("aws_acm_certificate", "main", Body(attrs))]
