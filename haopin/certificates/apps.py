from django.apps import AppConfig


class CertificatesConfig(AppConfig):
    name = "haopin.certificates"
    label = "certificates"
    verbose_name = "证书"

    def ready(self) -> None:
        from haopin.certificates import services
        from haopin.core import audit

        audit.declare(services.AUDIT_ACTIONS)
