"""Use cases. Importing the package registers the correction loop's listeners on publication,
submission warnings and search payload (kb.services.tasks, kb.services.policies)."""
from kb.services import policies, tasks  # noqa: F401
