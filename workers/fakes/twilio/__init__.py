"""A local fake of Twilio's Messages API for dev and tests (`overdue fake-twilio`)."""

from workers.fakes.twilio.faults import FaultKind, FaultPlan, InjectedFault
from workers.fakes.twilio.server import FakeTwilio

__all__ = ["FakeTwilio", "FaultKind", "FaultPlan", "InjectedFault"]
