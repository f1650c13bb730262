"""Message catalogue (zh-CN first, English second) and language negotiation."""

from __future__ import annotations

from typing import Literal

Lang = Literal["zh", "en"]

MESSAGES: dict[str, dict[Lang, str]] = {
    # Problem titles, by error code.
    "not_found": {"zh": "{resource}不存在", "en": "{resource} not found"},
    "not_authenticated": {"zh": "未登录或登录已过期，请重新登录", "en": "Not authenticated or session expired"},
    "invalid_credentials": {"zh": "用户名或密码错误", "en": "Incorrect username or password"},
    "user_inactive": {"zh": "账号已停用", "en": "The account is disabled"},
    "permission_denied": {"zh": "无权执行此操作", "en": "You are not allowed to do this"},
    "validation_failed": {"zh": "请求参数校验失败", "en": "The request is invalid"},
    "version_conflict": {
        "zh": "数据已被他人修改，请刷新后重试",
        "en": "The record was changed by someone else; reload and retry",
    },
    "duplicate": {"zh": "{field}已存在：{value}", "en": "{field} already exists: {value}"},
    "conflict": {"zh": "操作与现有数据冲突", "en": "The operation conflicts with existing data"},
    "invalid_assignee": {
        "zh": "用户 {user_id} 不是本租户在职的销售人员",
        "en": "User {user_id} is not an active sales user of this tenant",
    },
    "malformed_request": {
        "zh": "请求体无法解析（须为 UTF-8 编码的 JSON 或表单）",
        "en": "The request body could not be parsed (UTF-8 JSON or form expected)",
    },
    "method_not_allowed": {"zh": "不支持该请求方法", "en": "Method not allowed"},
    "http_error": {"zh": "请求无法处理", "en": "The request could not be processed"},
    "internal_error": {"zh": "服务器内部错误，请稍后重试", "en": "Internal server error; please retry later"},
    "body_too_large": {"zh": "请求体过大（上限 {limit} 字节）", "en": "Request body too large (limit {limit} bytes)"},
    "overloaded": {
        "zh": "服务繁忙，请稍后重试",
        "en": "The service is busy; please try again shortly",
    },
    "database_unavailable": {
        "zh": "数据库暂时不可用，请稍后重试",
        "en": "The database is temporarily unavailable; please try again shortly",
    },
    "rate_limited": {
        "zh": "尝试次数过多，请 {seconds} 秒后再试",
        "en": "Too many attempts; try again in {seconds} seconds",
    },
    "approval_required": {
        "zh": "超过 {limit} 行的导出需要经理审批，请缩小筛选范围",
        "en": "Exports over {limit} rows need a manager's approval; narrow the filters",
    },
    "already_decided": {"zh": "该申请已处理", "en": "This request has already been decided"},
    "not_ready": {
        "zh": "该导出尚不可下载（状态：{state}）；导出经批准后可由申请人下载一次",
        "en": "This export cannot be downloaded ({state}); once approved, its requester downloads it once",
    },
    "legal_hold": {
        "zh": "该客户处于法律保全状态，不能删除其个人信息（{reason}）；本次申请已记录（编号 {id}）",
        "en": "The customer is under legal hold, so their personal data cannot be erased ({reason}); "
        "the request is recorded (no. {id})",
    },
    "invalid_transition": {
        "zh": "工单当前状态为 {status}，不能执行“{action}”",
        "en": "A ticket in status {status} cannot be {action}",
    },
    "reopen_window_passed": {
        "zh": "工单解决已超过 {days} 天，不能重新打开，请新建工单",
        "en": "The ticket was resolved more than {days} days ago; open a new one instead",
    },
    "already_escalated": {"zh": "该工单已升级", "en": "This ticket is already escalated"},
    "survey_answered": {"zh": "您已提交过评价，感谢您的反馈", "en": "This survey has already been answered. Thank you"},
    "survey_expired": {
        "zh": "评价链接已失效（已过期或已有更新的链接）",
        "en": "This survey link is no longer valid (it expired or a newer one was sent)",
    },
    "resource.survey": {"zh": "满意度调查", "en": "Survey"},
    "resource.service_record": {"zh": "服务工单", "en": "Service ticket"},
    "own_account": {
        "zh": "不能停用自己的账号或修改自己的角色",
        "en": "You cannot disable your own account or change your own role",
    },
    "already_erased": {"zh": "该个人信息已被删除", "en": "This personal data has already been erased"},
    "expired": {
        "zh": "批准已过期（{days} 天内有效），请重新申请",
        "en": "The approval has expired (valid for {days} days); please ask again",
    },
    "resource.approval": {"zh": "审批申请", "en": "Approval request"},
    "token_revoked": {
        "zh": "登录已失效（已退出，或密码、角色、账号状态已变更），请重新登录",
        "en": "This sign-in has ended (signed out, or the password, role or account changed); please sign in again",
    },
    # Resource names used in messages.
    "resource.customer": {"zh": "客户", "en": "Customer"},
    "resource.contact": {"zh": "联系人", "en": "Contact"},
    "resource.address": {"zh": "地址", "en": "Address"},
    "resource.user": {"zh": "用户", "en": "User"},
    "resource.resource": {"zh": "资源", "en": "Resource"},
    "field.customer_code": {"zh": "客户编码", "en": "Customer code"},
    "field.username": {"zh": "用户名", "en": "User name"},
    "field.tenant": {"zh": "租户", "en": "Tenant"},
    "resource.saved_view": {"zh": "视图", "en": "Saved view"},
    "field.view_name": {"zh": "视图名称", "en": "View name"},
    # Field-level validation messages, by pydantic error type or our own code.
    "v.missing": {"zh": "必填字段", "en": "Field required"},
    "v.extra_forbidden": {"zh": "不允许的字段", "en": "Unknown field"},
    "v.string_too_long": {"zh": "长度不能超过 {max_length} 个字符", "en": "At most {max_length} characters"},
    "v.string_too_short": {"zh": "长度不能少于 {min_length} 个字符", "en": "At least {min_length} characters"},
    "v.enum": {"zh": "取值必须是 {expected} 之一", "en": "Must be one of {expected}"},
    "v.literal_error": {"zh": "取值必须是 {expected} 之一", "en": "Must be one of {expected}"},
    "v.int_parsing": {"zh": "必须是整数", "en": "Must be an integer"},
    "v.int_type": {"zh": "必须是整数", "en": "Must be an integer"},
    "v.decimal_parsing": {"zh": "必须是数字", "en": "Must be a number"},
    "v.decimal_max_digits": {"zh": "数字位数过多", "en": "Too many digits"},
    "v.decimal_max_places": {"zh": "最多保留 2 位小数", "en": "At most 2 decimal places"},
    "v.decimal_whole_digits": {"zh": "整数部分位数过多", "en": "Too many digits before the decimal point"},
    "v.greater_than_equal": {"zh": "不能小于 {ge}", "en": "Must be at least {ge}"},
    "v.less_than_equal": {"zh": "不能大于 {le}", "en": "Must be at most {le}"},
    "v.greater_than": {"zh": "必须大于 {gt}", "en": "Must be greater than {gt}"},
    "v.date_from_datetime_parsing": {"zh": "日期格式应为 YYYY-MM-DD", "en": "Dates look like YYYY-MM-DD"},
    "v.date_parsing": {"zh": "日期格式应为 YYYY-MM-DD", "en": "Dates look like YYYY-MM-DD"},
    "v.bool_parsing": {"zh": "必须是 true 或 false", "en": "Must be true or false"},
    "v.string_type": {"zh": "必须是字符串", "en": "Must be a string"},
    "v.list_type": {"zh": "必须是数组", "en": "Must be a list"},
    "v.dict_type": {"zh": "必须是对象", "en": "Must be an object"},
    "v.value_error": {"zh": "取值无效：{detail}", "en": "Invalid value: {detail}"},
    "v.playbook_empty": {
        "zh": "挽回策略不能为空；要删除这一条，请发送 null",
        "en": "A strategy cannot be empty; send null to remove the entry",
    },
    "v.phone_invalid": {
        "zh": "不是有效的中国大陆手机或固定电话号码",
        "en": "Not a valid mainland China mobile or landline number",
    },
    "v.email_invalid": {"zh": "邮箱地址无效", "en": "Not a valid email address"},
    "v.province_unknown": {"zh": "未知的省份：{value}", "en": "Unknown province: {value}"},
    "v.region_unknown": {"zh": "大区必须是 {expected} 之一", "en": "Region must be one of {expected}"},
    "v.tags_invalid": {
        "zh": "标签必须是非空且不超过 30 个字符的文本",
        "en": "Tags are non-empty texts of at most 30 characters",
    },
    "v.date_range": {"zh": "开始日期不能晚于结束日期", "en": "The start date must not be after the end date"},
    "v.sort_unknown": {"zh": "不支持的排序字段，可选：{expected}", "en": "Unknown sort field; one of {expected}"},
    "v.invalid": {"zh": "取值无效", "en": "Invalid value"},
    "v.text_invalid": {"zh": "文本包含无法保存的字符", "en": "Text contains characters that cannot be stored"},
    "v.region_outside_scope": {
        "zh": "只能在您负责的大区（{regions}）创建客户",
        "en": "You can create customers only in your own region ({regions})",
    },
    "v.invalid_assignee": {
        "zh": "用户 {user_id} 不是本租户在职的相应岗位人员",
        "en": "User {user_id} is not an active user of this tenant in a suitable role",
    },
    "v.not_of_customer": {"zh": "不属于该客户", "en": "Does not belong to this customer"},
    "v.not_found": {"zh": "不存在或无权访问", "en": "Not found, or not yours to see"},
    "v.string_pattern_mismatch": {"zh": "格式不正确", "en": "Wrong format"},
    "v.too_long": {"zh": "最多 {max_length} 项", "en": "At most {max_length} items"},
    "v.json_invalid": {"zh": "JSON 格式错误", "en": "Malformed JSON"},
    "v.model_attributes_type": {"zh": "必须是对象", "en": "Must be an object"},
    "v.model_type": {"zh": "必须是对象", "en": "Must be an object"},
    "v.int_from_float": {"zh": "必须是整数", "en": "Must be an integer"},
    "v.date_type": {"zh": "日期格式应为 YYYY-MM-DD", "en": "Dates look like YYYY-MM-DD"},
    "v.date_from_datetime_inexact": {"zh": "日期格式应为 YYYY-MM-DD", "en": "Dates look like YYYY-MM-DD"},
    "v.decimal_type": {"zh": "必须是数字", "en": "Must be a number"},
    "v.finite_number": {"zh": "必须是有限数字", "en": "Must be a finite number"},
    "v.bool_type": {"zh": "必须是 true 或 false", "en": "Must be true or false"},
    "v.views_limit": {"zh": "每个页面最多保存 {limit} 个视图", "en": "At most {limit} saved views per page"},
    "v.column_unknown": {"zh": "未知的列，可选：{expected}", "en": "Unknown column; one of {expected}"},
    "attachment_unreadable": {
        "zh": "附件无法打开：文件已损坏或被篡改，或其密钥未配置，请联系管理员",
        "en": "The attachment cannot be opened: the file is damaged or was altered, or its key is not configured; "
        "contact your administrator",
    },
    "field_write_denied": {"zh": "无权修改“{field}”", "en": "You are not allowed to change {field}"},
    "field_read_denied": {
        "zh": "无权查看“{field}”，因此不能按它排序或筛选",
        "en": "You cannot see {field}, so you cannot sort or filter by it",
    },
    "pii_search_denied": {
        "zh": "您的角色不能查看个人信息，因此不能按完整手机号或邮箱搜索；请按客户名称、编码或手机号后四位搜索",
        "en": "Your role cannot see personal data, so it cannot search by a whole phone number or e-mail; "
        "search by name, code or a phone's last four digits",
    },
    "v.field_write_denied": {"zh": "无权修改该字段", "en": "Not yours to change"},
    "v.field_read_denied": {"zh": "无权查看该字段", "en": "Not yours to see"},
    "v.pii_search_denied": {
        "zh": "不能按完整手机号或邮箱搜索",
        "en": "Searching by a whole phone number or e-mail is not allowed",
    },
    "field.annual_revenue": {"zh": "年营业额", "en": "annual revenue"},
    "field.credit_rating": {"zh": "信用等级", "en": "credit rating"},
    "field.contact_phone": {"zh": "联系电话", "en": "phone"},
    "field.contact_email": {"zh": "邮箱", "en": "e-mail"},
    "field.contact_wechat": {"zh": "微信", "en": "WeChat id"},
    "field.birthday": {"zh": "生日", "en": "birthday"},
    "field.detailed_address": {"zh": "详细地址", "en": "detailed address"},
    "v.date_out_of_range": {
        "zh": "日期须在 {earliest} 至 {latest} 之间",
        "en": "Dates must lie between {earliest} and {latest}",
    },
    "v.margin_too_low": {
        "zh": "成本（金额 − 毛利）不能大于 {le}",
        "en": "The cost (amount − margin) must be at most {le}",
    },
    "v.password_incorrect": {"zh": "当前密码不正确", "en": "The current password is incorrect"},
    "v.password_unchanged": {
        "zh": "新密码不能与当前密码相同",
        "en": "The new password must differ from the current one",
    },
}


def negotiate(accept_language: str | None) -> Lang:
    """Pick zh or en from an Accept-Language header; Chinese is the default."""
    if not accept_language:
        return "zh"
    best: tuple[float, Lang] = (-1.0, "zh")
    for part in accept_language.split(","):
        piece = part.strip()
        if not piece:
            continue
        tag, _, params = piece.partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in ("zh", "en") and quality > best[0]:
            best = (quality, "zh" if primary == "zh" else "en")
    return best[1]


def translate(key: str, lang: Lang, **params: object) -> str:
    entry = MESSAGES.get(key)
    if entry is None:
        # An uncatalogued resource or field name is shown as itself rather than as a key.
        return key.split(".", 1)[1] if key.startswith(("field.", "resource.")) else key
    template = entry[lang]
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError):
        return template
