"""`iacforge serve`: certificates and rewards over HTTP, for RL stacks that call out for rewards.

`RewardService` does the work (admission, verification on a shared pool, rewards) and
`RewardServer` speaks HTTP; `iacforge.serve.request` defines the JSON a client sends.
"""

from iacforge.serve.request import RequestError, VerifyRequest, parse_request
from iacforge.serve.server import RewardServer
from iacforge.serve.service import RewardService

__all__ = ["RequestError", "RewardServer", "RewardService", "VerifyRequest", "parse_request"]
