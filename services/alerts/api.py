"""The alerts rpc (`ecp.<mode>.rpc.alerts.<query>`) of one mode: rules, silences, history,
notifications and export, answered as `{ok, status, data}` or a problem
`{ok: false, status, code, detail, ...}` (raised as `RuleProblem`)."""

from __future__ import annotations

from services.alerts.engine import Evaluator
from services.alerts.history_api import HistoryApi
from services.alerts.rule_api import RuleApi
from services.alerts.silence_api import SilenceApi
from shared.settings import Settings


class AlertsApi:
    """Each rpc query of one mode, answered by its topic's api; rule changes reach the mode's
    evaluator at once."""

    def __init__(self, evaluator: Evaluator, settings: Settings) -> None:
        self.rule_api = RuleApi(evaluator, settings)
        self.silence_api = SilenceApi(evaluator.db, evaluator.mode, evaluator.clock)
        self.history_api = HistoryApi(evaluator.db, evaluator.mode)
        self.rules = self.rule_api.rules
        self.export = self.rule_api.export
        self.silences = self.silence_api.silences
        self.history = self.history_api.history
        self.notifications = self.history_api.notifications
