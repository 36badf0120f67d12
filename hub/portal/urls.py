from django.urls import path

from hub.portal.views import dashboard, jobs, mqtt, passwords, security, signin, sites, tokens

app_name = "portal"

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("organisation/", dashboard.switch_organisation, name="switch_organisation"),
    path(
        "notifications/<int:pk>/close/",
        dashboard.close_notification,
        name="close_notification",
    ),
    path("sites/", sites.site_list, name="sites"),
    path("sites/<int:pk>/", sites.site_detail, name="site"),
    path("jobs/<uuid:pk>/", jobs.job_detail, name="job"),
    path("jobs/<uuid:pk>/result/", jobs.job_result, name="job_result"),
    path("accounts/login/", signin.login_view, name="login"),
    path("accounts/second-factor/", signin.second_factor, name="second_factor"),
    path("accounts/second-factor/enrol/", security.enrol, name="enrol"),
    path("accounts/logout/", signin.logout_view, name="logout"),
    path(
        "accounts/password/change/", passwords.PasswordChangeView.as_view(), name="password_change"
    ),
    path(
        "accounts/password/change/done/",
        passwords.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("accounts/password/reset/", passwords.PasswordResetView.as_view(), name="password_reset"),
    path(
        "accounts/password/reset/done/",
        passwords.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/password/reset/<uidb64>/<token>/",
        passwords.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/password/reset/complete/",
        passwords.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("security/", security.security, name="security"),
    path(
        "security/devices/<slug:kind>/<int:pk>/remove/",
        security.remove_device,
        name="remove_device",
    ),
    path("security/recovery-codes/", security.recovery_codes, name="recovery_codes"),
    path("tokens/", tokens.token_list, name="tokens"),
    path("tokens/<int:pk>/revoke/", tokens.token_revoke, name="token_revoke"),
    path("mqtt/", mqtt.mqtt_broker, name="mqtt_broker"),
    path("mqtt/test/", mqtt.mqtt_broker_test, name="mqtt_broker_test"),
]
