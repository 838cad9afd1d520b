"""CRM_QUEUE_EXPIRES_MS: queues of test and bench runs expire; production's never do."""
from shared.backbone.broker import expiry
from shared.config import Settings


def test_queues_expire_only_when_a_run_asks_for_it():
    assert expiry(Settings.from_env({})) == {}
    assert expiry(Settings.from_env({"CRM_QUEUE_EXPIRES_MS": "0"})) == {}
    assert expiry(Settings.from_env({"CRM_QUEUE_EXPIRES_MS": "60000"})) == {"x-expires": 60000}
