from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "haopin.accounts"
    label = "accounts"
    verbose_name = "账户与单位"

    def ready(self) -> None:
        from haopin.accounts import policies, selectors, services
        from haopin.core import audit
        from haopin.core.policies import ScopeKind, scope_of
        from haopin.core.workspace import NavItem, register_nav, register_stats, register_todo

        audit.declare(services.AUDIT_ACTIONS)
        # Each entry is shown exactly when the page behind it would not answer 403.
        register_nav(
            NavItem(
                "单位与专家",
                "单位",
                "accounts:organisation-list",
                lambda user: scope_of(user).kind != ScopeKind.NONE,
                order=600,
            ),
            NavItem(
                "单位与专家",
                "注册审核",
                "accounts:registration-list",
                selectors.is_registration_reviewer,
                order=610,
            ),
            NavItem("单位与专家", "专家库", "accounts:expert-list", policies.is_office, order=620),
            NavItem("系统", "API 令牌", "accounts:tokens", lambda user: user.is_authenticated, order=910),
        )
        register_todo(selectors.registration_todo)
        register_stats(selectors.home_figures)
