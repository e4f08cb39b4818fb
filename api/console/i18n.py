# ruff: noqa: RUF001 -- Chinese text uses full-width punctuation on purpose.
"""The console's two languages: message catalogues and choosing one per request.

The choice is the `overdue_lang` cookie (set by the language switch), else the browser's
Accept-Language, else English.
"""

from __future__ import annotations

from collections.abc import Mapping

LANGUAGES = ("zh-CN", "en")
DEFAULT = "en"
COOKIE = "overdue_lang"

_EN: dict[str, str] = {
    "app.title": "Overdue accounts console",
    "nav.home": "My queue",
    "nav.escalations": "Escalations",
    "nav.logout": "Log out",
    "lang.switch": "Language",
    "login.title": "Log in",
    "login.username": "Username",
    "login.password": "Password",
    "login.submit": "Log in",
    "login.failed": "Wrong username or password.",
    "login.throttled": "Too many attempts. Try again in {seconds} s.",
    "home.queue": "Queue",
    "home.role": "Role",
    "home.next": "Next task",
    "home.claimed": "Tasks you are working on",
    "home.none_claimed": "You have no open tasks.",
    "home.empty": "No task is due in your queue right now.",
    "home.account_lookup": "Open an account",
    "home.open": "Open",
    "task.title": "Call task",
    "task.account": "Account",
    "task.stage": "Stage",
    "task.due": "Due",
    "task.status": "Task status",
    "task.claimed_by": "Claimed by",
    "task.finish": "Finish task",
    "task.finished": "Task finished.",
    "task.closed": "This task is closed; nothing more can be recorded on it.",
    "task.release": "Release task",
    "hours.local": "Customer's local time",
    "hours.workable_from": "Workable from",
    "hours.closed": "Outside the customer's calling hours until {until} (their time): "
    "no call outcome can be recorded now. You may release the task.",
    "hours.unknown": "The customer's time zone is unknown: no call can be worked.",
    "hours.rest_day": "a rest day where the customer lives (weekend or holiday)",
    "account.state": "State",
    "account.balance": "Balance",
    "account.days_past_due": "Days past due",
    "account.next_action": "Next step",
    "account.promise": "Promise to pay",
    "account.plan": "Repayment plan",
    "account.pause": "Paused",
    "account.disputes": "Open disputes",
    "account.phone": "Phone",
    "account.reveal": "Show number",
    "account.reveal_note": "Showing the number is recorded.",
    "account.no_process": "This account has no running process.",
    "account.timeline": "Timeline",
    "account.older": "Older entries",
    "account.notes": "What happened",
    "history.contacts": "Contact history",
    "history.outcomes": "Earlier outcomes",
    "history.none": "Nothing yet.",
    "history.when": "When",
    "history.what": "What",
    "history.who": "Who",
    "history.result": "Result",
    "outcome.title": "Record the call",
    "outcome.kind": "Outcome",
    "outcome.reached": "Reached",
    "outcome.no_answer": "No answer",
    "outcome.wrong_number": "Wrong number",
    "outcome.refused": "Refused to pay",
    "outcome.complaint": "Complaint",
    "outcome.callback_requested": "Call back at",
    "outcome.callback_at": "Call back at (customer's local time)",
    "outcome.note": "Note (kept in the contact record only)",
    "outcome.save": "Save",
    "promise.title": "Promise to pay",
    "promise.amount": "Amount",
    "promise.date": "Promised date",
    "hardship.title": "Hardship",
    "dispute.title": "Dispute",
    "escalate.title": "Escalate to a supervisor",
    "form.reason": "Reason",
    "answer.ok": "Done. The account is now: {state}.",
    "answer.rejected": "Not accepted: {reason}",
    "answer.invalid": "Please correct: {reason}",
    "answer.not_running": "The account's process has ended; nothing was recorded.",
    "supervisor.escalations": "Escalated accounts",
    "supervisor.none": "No escalated accounts.",
    "supervisor.pause": "Pause",
    "supervisor.resume": "Resume",
    "supervisor.hardship": "Hardship decision",
    "supervisor.approve": "Approve with plan",
    "supervisor.reject": "Reject",
    "supervisor.plan": "Instalments, one per line: YYYY-MM-DD amount",
    "error.forbidden": "You may not do this.",
    "error.not_found": "Not found.",
    "error.csrf": "The form expired. Go back, reload the page and try again.",
    "error.claimed_by_other": "This task is claimed by another agent.",
    "error.back": "Back to my queue",
    "state.active": "active",
    "state.promise": "promise to pay",
    "state.hardship_review": "hardship review",
    "state.repayment_plan": "repayment plan",
    "state.disputed": "disputed",
    "state.paused": "paused",
    "state.escalated": "escalated",
    "state.resolved": "resolved (paid)",
    "state.closed": "closed",
    "state.parked": "parked (waiting for ops)",
}

_ZH: dict[str, str] = {
    "app.title": "逾期账户坐席台",
    "nav.home": "我的队列",
    "nav.escalations": "升级处理",
    "nav.logout": "退出登录",
    "lang.switch": "语言",
    "login.title": "登录",
    "login.username": "用户名",
    "login.password": "密码",
    "login.submit": "登录",
    "login.failed": "用户名或密码错误。",
    "login.throttled": "尝试次数过多，请 {seconds} 秒后再试。",
    "home.queue": "队列",
    "home.role": "角色",
    "home.next": "领取下一个任务",
    "home.claimed": "正在处理的任务",
    "home.none_claimed": "您没有未完成的任务。",
    "home.empty": "您的队列中目前没有到期的任务。",
    "home.account_lookup": "打开账户",
    "home.open": "打开",
    "task.title": "外呼任务",
    "task.account": "账户",
    "task.stage": "阶段",
    "task.due": "到期时间",
    "task.status": "任务状态",
    "task.claimed_by": "领取人",
    "task.finish": "完成任务",
    "task.finished": "任务已完成。",
    "task.closed": "此任务已关闭，无法再记录。",
    "task.release": "释放任务",
    "hours.local": "客户当地时间",
    "hours.workable_from": "可外呼时间",
    "hours.closed": "现在不在客户的可联系时段内，直到 {until}（客户当地时间）："
    "现在不能记录外呼结果。您可以释放此任务。",
    "hours.unknown": "客户时区未知：无法处理外呼。",
    "hours.rest_day": "客户所在地今天是休息日（周末或节假日）",
    "account.state": "状态",
    "account.balance": "欠款余额",
    "account.days_past_due": "逾期天数",
    "account.next_action": "下一步",
    "account.promise": "承诺还款",
    "account.plan": "还款计划",
    "account.pause": "已暂停",
    "account.disputes": "未结争议",
    "account.phone": "电话",
    "account.reveal": "显示号码",
    "account.reveal_note": "查看号码会被记录。",
    "account.no_process": "此账户没有进行中的流程。",
    "account.timeline": "时间线",
    "account.older": "更早的记录",
    "account.notes": "处理经过",
    "history.contacts": "联系记录",
    "history.outcomes": "以往结果",
    "history.none": "暂无记录。",
    "history.when": "时间",
    "history.what": "内容",
    "history.who": "操作人",
    "history.result": "结果",
    "outcome.title": "记录通话结果",
    "outcome.kind": "结果",
    "outcome.reached": "已接通",
    "outcome.no_answer": "无人接听",
    "outcome.wrong_number": "号码错误",
    "outcome.refused": "拒绝还款",
    "outcome.complaint": "投诉",
    "outcome.callback_requested": "约定回拨",
    "outcome.callback_at": "回拨时间（客户当地时间）",
    "outcome.note": "备注（仅保存在联系记录中）",
    "outcome.save": "保存",
    "promise.title": "承诺还款",
    "promise.amount": "金额",
    "promise.date": "承诺日期",
    "hardship.title": "经济困难",
    "dispute.title": "争议",
    "escalate.title": "升级给主管",
    "form.reason": "原因",
    "answer.ok": "已完成。账户当前状态：{state}。",
    "answer.rejected": "未被接受：{reason}",
    "answer.invalid": "请更正：{reason}",
    "answer.not_running": "该账户的流程已结束，未作记录。",
    "supervisor.escalations": "已升级的账户",
    "supervisor.none": "没有已升级的账户。",
    "supervisor.pause": "暂停",
    "supervisor.resume": "恢复",
    "supervisor.hardship": "困难申请审批",
    "supervisor.approve": "批准并设定计划",
    "supervisor.reject": "拒绝",
    "supervisor.plan": "分期，每行一期：YYYY-MM-DD 金额",
    "error.forbidden": "您无权执行此操作。",
    "error.not_found": "未找到。",
    "error.csrf": "表单已过期。请返回并刷新页面后重试。",
    "error.claimed_by_other": "此任务已被其他坐席领取。",
    "error.back": "返回我的队列",
    "state.active": "催收中",
    "state.promise": "承诺还款",
    "state.hardship_review": "困难审核中",
    "state.repayment_plan": "还款计划中",
    "state.disputed": "争议中",
    "state.paused": "已暂停",
    "state.escalated": "已升级",
    "state.resolved": "已结清",
    "state.closed": "已关闭",
    "state.parked": "已挂起（等待运维处理）",
}

CATALOGUES: Mapping[str, Mapping[str, str]] = {"en": _EN, "zh-CN": _ZH}


class Translator:
    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in CATALOGUES else DEFAULT
        self._messages = CATALOGUES[self.lang]

    def __call__(self, key: str, **values: object) -> str:
        text = self._messages.get(key) or _EN.get(key) or key
        return text.format(**values) if values else text


def _from_accept_language(header: str) -> str | None:
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        ranked.append((-quality, index, tag.strip().lower()))
    for _, _, tag in sorted(ranked):
        if tag.startswith("zh"):
            return "zh-CN"
        if tag.startswith("en"):
            return "en"
    return None


def negotiate(cookie: str | None, accept_language: str | None) -> str:
    if cookie is not None and cookie in CATALOGUES:
        return cookie
    return _from_accept_language(accept_language or "") or DEFAULT
