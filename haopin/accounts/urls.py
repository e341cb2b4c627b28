from django.contrib.auth import views as auth_views
from django.urls import path

from haopin.accounts import views

app_name = "accounts"

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="accounts/login.html", redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("register/", views.register, name="register"),
    path("register/done/", views.register_done, name="register-done"),
    path("registrations/", views.registration_list, name="registration-list"),
    path("registrations/<uuid:uuid>/", views.registration_detail, name="registration-detail"),
    path("organisations/", views.organisation_list, name="organisation-list"),
    path("organisations/new/", views.organisation_create, name="organisation-create"),
    path("organisations/<uuid:uuid>/", views.organisation_detail, name="organisation-detail"),
    path("organisations/<uuid:uuid>/members/", views.member_add, name="member-add"),
    path("organisations/<uuid:uuid>/members/<int:pk>/", views.member_update, name="member-update"),
    path("experts/", views.expert_list, name="expert-list"),
    path("experts/new/", views.expert_create, name="expert-create"),
    path("experts/<int:pk>/", views.expert_detail, name="expert-detail"),
    path("experts/<int:pk>/edit/", views.expert_edit, name="expert-edit"),
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token-revoke"),
]
