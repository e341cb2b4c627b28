from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "haopin.core"
    label = "core"
    verbose_name = "基础数据"

    def ready(self) -> None:
        from haopin.core import audit, services
        from haopin.core.policies import ScopeKind, scope_of
        from haopin.core.workspace import NavItem, register_nav

        audit.declare(services.AUDIT_ACTIONS)
        register_nav(
            NavItem("工作台", "首页", "workspace:home", lambda user: user.is_authenticated, order=0),
            NavItem(
                "系统",
                "审计日志",
                "workspace:audit-log",
                lambda user: scope_of(user).kind == ScopeKind.ALL,
                order=900,
            ),
            NavItem(
                "系统",
                "平台管理",
                "admin:index",
                lambda user: user.is_active and user.is_superuser,
                order=990,
            ),
        )
