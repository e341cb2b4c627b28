from django.apps import AppConfig


class StandardsConfig(AppConfig):
    name = "haopin.standards"
    label = "standards"
    verbose_name = "标准与评价细则"

    def ready(self) -> None:
        from haopin.core import audit, workspace
        from haopin.standards import services, views

        audit.declare(services.AUDIT_ACTIONS)
        audit.declare_labels({"indicators": "指标", "veto_items": "否决项", "criteria": "资格条件"})
        workspace.register_nav(*views.NAV)
