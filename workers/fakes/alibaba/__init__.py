"""A local fake of Alibaba Cloud SMS (dysmsapi) for dev and tests (`overdue fake-alibaba`)."""

from workers.fakes.alibaba.server import FakeAlibaba
from workers.fakes.alibaba.sms_api import FakeSms, registered_text

__all__ = ["FakeAlibaba", "FakeSms", "registered_text"]
