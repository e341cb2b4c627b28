from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "haopin.notifications"
    label = "notifications"
    verbose_name = "通知"

    def ready(self) -> None:
        from haopin.core import audit, workspace
        from haopin.notifications import services, workspace_entries

        audit.declare(services.AUDIT_ACTIONS)
        workspace.register_nav(*workspace_entries.NAV)
        workspace.register_todo(workspace_entries.todo)
