"""Evaluation URLs (namespace "evaluation"), mounted at the site root by config/urls.py.

Each module of ``evaluation/views`` declares its own ``urlpatterns``: workspace pages under
``workspace/evaluation/`` and the public notice pages under ``notices/``.
"""

from haopin.evaluation.views import applications, batches, calendar, experts, public

app_name = "evaluation"

urlpatterns = [
    *batches.urlpatterns,
    *applications.urlpatterns,
    *experts.urlpatterns,
    *calendar.urlpatterns,
    *public.urlpatterns,
]
