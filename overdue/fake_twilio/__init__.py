"""A local fake of Twilio's Messages API for dev and tests (`overdue fake-twilio`)."""

from overdue.fake_twilio.faults import FaultKind, FaultPlan, InjectedFault
from overdue.fake_twilio.server import FakeTwilio

__all__ = ["FakeTwilio", "FaultKind", "FaultPlan", "InjectedFault"]
