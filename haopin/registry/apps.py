from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "haopin.registry"
    label = "registry"
    verbose_name = "品牌登记"

    def ready(self) -> None:
        from haopin.core import audit, workspace
        from haopin.registry import policies, services, views

        audit.declare(services.AUDIT_ACTIONS)
        workspace.register_nav(
            workspace.NavItem("品牌登记", "企业", "registry:enterprise-list", views.nav_visible, order=10),
            workspace.NavItem("品牌登记", "品牌", "registry:brand-list", views.nav_visible, order=20),
            workspace.NavItem("品牌登记", "产品与服务", "registry:product-list", views.nav_visible, order=30),
            workspace.NavItem("品牌登记", "批量导入", "registry:import-list", policies.can_import, order=40),
        )
        workspace.register_todo(views.todo_items)
        workspace.register_stats(views.home_figures)
