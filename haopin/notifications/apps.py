from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "haopin.notifications"
    label = "notifications"
    verbose_name = "通知"

    def ready(self) -> None:
        from haopin.core import audit
        from haopin.notifications import services

        audit.declare(services.AUDIT_ACTIONS)
