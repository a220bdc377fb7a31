"""The words of the customer's status page, in English and Chinese, and how a language is picked.

Role: one table per language (same keys in both, checked by the tests) and `pick_language` from an
explicit `?lang=` or the browser's `Accept-Language`. Plain text with `{name}` fields: the caller
(`ingress.status_page`) escapes every value it inserts. The ETA's `basis` comes from the saga in
English; the known ones are translated here, any other is shown as it is.
"""

from typing import Literal

Language = Literal["en", "zh"]
LANGUAGES: tuple[Language, ...] = ("en", "zh")
HTML_LANG: dict[Language, str] = {"en": "en", "zh": "zh-CN"}

TEXT: dict[Language, dict[str, str]] = {
    "en": {
        "title": "Upgrade {order_id}",
        "heading": "Your upgrade",
        "switch": "中文",
        "bought": "What you bought",
        "order": "Order",
        "plan": "New plan",
        "changes": "Changes",
        "paid_with": "Paid with",
        "where": "Where it is",
        "step_payment": "Payment confirmed",
        "step_payment_review": "Payment being reviewed by the payment channel",
        "step_billing": "Billing switched to the new plan",
        "step_regions": "New settings applied in regions: {applied}/{total}",
        "step_regions_unknown": "New settings applied in every region",
        "step_active": "Active",
        "eta": "When can I use it?",
        "eta_window": "Expected between {earliest} and {latest}, in about {soonest} to {latest_in}.",
        "eta_by": "Expected by {latest}, within about {latest_in}.",
        "eta_passed": "It is taking longer than estimated (expected by {latest}).",
        "eta_none": "No estimate is possible right now: {basis}.",
        "eta_overdue": "This step is {overdue} past its usual time.",
        "eta_unknown": "the new settings take longer than the platform's current speed explains",
        "eta_active": "Active since {at}.",
        "eta_never": "This upgrade will not become active.",
        "waiting_for": "Waiting for: {what}",
        "late": "Taking longer than usual",
        "late_ticket": "Our team has been alerted (ticket {ticket}) and is looking at it. You "
        "don't need to do anything; this page updates by itself.",
        "payment_late": "Your payment has not been confirmed yet (ticket {ticket}). If you have "
        "paid, you don't need to pay again: we are checking with the payment channel.",
        "attention": "A person is checking your order; you don't need to do anything.",
        "refunded": "Your payment has been refunded.",
        "advice": "Once it is active",
        "advice_text": "Refresh the app, or sign out and in again, so that it loads the new "
        "settings.",
        "advice_media": "Media quality changes need this: running apps keep the old bitrate "
        "until they reload.",
        "advice_late": "If it is late: this page updates by itself. Don't pay again.",
        "updated": "Updated {at} UTC",
        "live": "Live: this page updates by itself",
        "offline": "Connection lost: reload the page",
        "final": "Final status",
        "error_heading": "This status link cannot be opened",
        "error_retry": "Ask for a new status link, or try again in a minute.",
        "error_unavailable": "The status cannot be read right now.",
        "stage_awaiting_payment": "Waiting for your payment to be confirmed",
        "stage_reconciling": "Payment received: checking the order",
        "stage_updating_billing": "Payment confirmed: switching your billing plan",
        "stage_allocating_resources": "Preparing resources for your new capability",
        "stage_propagating": "Applying the new settings in every region",
        "stage_activating": "Turning your new features on",
        "stage_notifying": "Turning your new features on",
        "stage_active": "Active: your upgrade is ready",
        "stage_needs_attention": "A person is checking your order",
        "stage_compensating": "The upgrade is being undone",
        "stage_failed": "The upgrade did not go through",
        "stage_cancelled": "The upgrade was cancelled",
        "stage_expired": "The upgrade expired: no payment arrived in time",
        "kind_plan": "plan",
        "kind_advanced_permission": "advanced permission",
        "kind_capability": "new capability",
        "kind_media_quality": "media quality",
        "method_alipay": "Alipay",
        "method_wechat_pay": "WeChat Pay",
        "method_bank_card": "Bank card",
        "method_corporate_transfer": "Corporate transfer",
        "basis_waiting for an operator decision": "a person has to decide first",
    },
    "zh": {
        "title": "升级 {order_id}",
        "heading": "您的升级",
        "switch": "English",
        "bought": "购买内容",
        "order": "订单",
        "plan": "新套餐",
        "changes": "变更",
        "paid_with": "支付方式",
        "where": "当前进度",
        "step_payment": "支付已确认",
        "step_payment_review": "支付渠道正在审核付款",
        "step_billing": "计费已切换到新套餐",
        "step_regions": "各区域已应用新配置：{applied}/{total}",
        "step_regions_unknown": "所有区域应用新配置",
        "step_active": "已生效",
        "eta": "什么时候可以使用？",
        "eta_window": "预计在 {earliest} 至 {latest} 之间完成，约 {soonest} 至 {latest_in} 后。",
        "eta_by": "预计在 {latest} 前完成，约 {latest_in} 内。",
        "eta_passed": "处理时间超出预计（原预计 {latest} 前完成）。",
        "eta_none": "目前无法估计完成时间：{basis}。",
        "eta_overdue": "这一步已比通常多用了 {overdue}。",
        "eta_unknown": "新配置的同步慢于平台当前的同步速度所能解释的范围",
        "eta_active": "已于 {at} 生效。",
        "eta_never": "本次升级不会生效。",
        "waiting_for": "正在等待：{what}",
        "late": "处理时间比平常长",
        "late_ticket": "我们的团队已收到提醒（工单 {ticket}）并正在处理。您无需任何操作，本页面会自动更新。",
        "payment_late": "尚未确认您的付款（工单 {ticket}）。"
        "如果您已付款，请勿重复支付：我们正在与支付渠道核实。",
        "attention": "工作人员正在核对您的订单，您无需任何操作。",
        "refunded": "您的付款已退还。",
        "advice": "生效之后",
        "advice_text": "请刷新应用，或退出后重新登录，以加载新的设置。",
        "advice_media": "画质变更尤其需要这样做：正在运行的应用在重新加载前仍使用原来的码率。",
        "advice_late": "如有延迟：本页面会自动更新，请勿重复付款。",
        "updated": "更新于 {at} UTC",
        "live": "实时：本页面会自动更新",
        "offline": "连接已断开：请刷新页面",
        "final": "最终状态",
        "error_heading": "无法打开此状态链接",
        "error_retry": "请索取新的状态链接，或稍后再试。",
        "error_unavailable": "暂时无法读取状态。",
        "stage_awaiting_payment": "正在等待支付确认",
        "stage_reconciling": "已收到付款：正在核对订单",
        "stage_updating_billing": "支付已确认：正在切换计费套餐",
        "stage_allocating_resources": "正在为新能力准备资源",
        "stage_propagating": "正在各区域应用新配置",
        "stage_activating": "正在开通新功能",
        "stage_notifying": "正在开通新功能",
        "stage_active": "已生效：升级已完成",
        "stage_needs_attention": "工作人员正在核对您的订单",
        "stage_compensating": "正在撤销本次升级",
        "stage_failed": "升级未成功",
        "stage_cancelled": "升级已取消",
        "stage_expired": "升级已过期：未在期限内收到付款",
        "kind_plan": "套餐",
        "kind_advanced_permission": "高级权限",
        "kind_capability": "新能力",
        "kind_media_quality": "画质",
        "method_alipay": "支付宝",
        "method_wechat_pay": "微信支付",
        "method_bank_card": "银行卡",
        "method_corporate_transfer": "对公转账",
        "basis_waiting for an operator decision": "需要工作人员先做决定",
    },
}


def text(language: Language, key: str, **values: str) -> str:
    """The words for `key`, with `{name}` fields filled (values are not escaped here)."""
    return TEXT[language][key].format(**values)


def word(language: Language, prefix: str, value: str) -> str:
    """A translated enum value (`kind_`, `method_`, `basis_`), or the value itself."""
    return TEXT[language].get(f"{prefix}{value}", value)


def pick_language(explicit: str | None, accept_language: str | None) -> Language:
    """`?lang=en|zh` first; else the first of zh*/en* by the browser's preference; else English."""
    if explicit in LANGUAGES:
        return explicit
    best: tuple[float, int, Language] | None = None
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > 0:
            candidate = (-quality, position, primary)
            if best is None or candidate < best:
                best = candidate
    return best[2] if best is not None else "en"
