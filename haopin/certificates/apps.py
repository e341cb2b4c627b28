from django.apps import AppConfig


class CertificatesConfig(AppConfig):
    name = "haopin.certificates"
    label = "certificates"
    verbose_name = "证书"

    def ready(self) -> None:
        from haopin.certificates import services, views, workspace_entries
        from haopin.core import audit, workspace

        audit.declare(services.AUDIT_ACTIONS)
        workspace.register_nav(*views.NAV)
        workspace.register_todo(workspace_entries.todo)
