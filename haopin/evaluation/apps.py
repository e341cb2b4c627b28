from django.apps import AppConfig


class EvaluationConfig(AppConfig):
    name = "haopin.evaluation"
    label = "evaluation"
    verbose_name = "评价"

    def ready(self) -> None:
        from haopin.core import audit, workspace
        from haopin.evaluation import notice_entries, services, workspace_entries
        from haopin.evaluation.views import applications, batches, calendar, experts

        audit.declare(services.AUDIT_ACTIONS)
        audit.declare_labels(applications.AUDIT_LABELS)
        workspace.register_nav(*batches.NAV, *applications.NAV, *experts.NAV, *calendar.NAV)
        workspace.register_todo(workspace_entries.todo_items)
        workspace.register_todo(experts.todo_items)
        workspace.register_todo(notice_entries.todo)
