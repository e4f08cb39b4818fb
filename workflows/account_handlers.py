"""The account workflow's signals and updates beyond its own module, as one base class.

Each mixin holds one concern's handlers (customer state, revocation, consent, policy moves,
forbearance, self-service and its one-time code), most applying their entry in
`workflows.handlers` through the workflow's `_check` and `_apply`. `OverdueAccountWorkflow`
inherits them all through this one class, so a new concern adds a line here, not to the
workflow's module.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.consent_handlers import ConsentSignals
    from workflows.customer_handlers import CustomerStateUpdates
    from workflows.forbearance_handlers import ForbearanceHandlers
    from workflows.policy_handlers import PolicyMoves
    from workflows.revocation_handlers import RevocationHandlers
    from workflows.selfservice_code import SelfServiceCodeUpdates
    from workflows.selfservice_handlers import SelfServiceUpdates


class AccountHandlers(
    CustomerStateUpdates,
    RevocationHandlers,
    ConsentSignals,
    PolicyMoves,
    ForbearanceHandlers,
    SelfServiceUpdates,
    SelfServiceCodeUpdates,
):
    """Every mixin's handlers (the workflow supplies `_check`, `_apply`, `_record`, ...)."""
