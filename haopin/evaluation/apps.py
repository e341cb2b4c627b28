from django.apps import AppConfig


class EvaluationConfig(AppConfig):
    name = "haopin.evaluation"
    label = "evaluation"
    verbose_name = "评价"

    def ready(self) -> None:
        from haopin.core import audit
        from haopin.evaluation import services

        audit.declare(services.AUDIT_ACTIONS)
