from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

from xinyu.api import api
from xinyu.web import views as web

urlpatterns = [
    path("", web.home, name="home"),
    path("healthz", web.healthz, name="healthz"),
    path("login/", web.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/password/", web.PasswordChangeView.as_view(), name="password_change"),
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("", include("xinyu.org.page_urls")),
    path("", include("xinyu.studentfile.urls")),
    path("roster/", include("xinyu.org.urls")),
    path("audit/", include("xinyu.audit.urls")),
    path("screening/", include("xinyu.screening.urls")),
    path("screening/", include("xinyu.screening.report_urls")),
    path("wellbeing/", include("xinyu.wellbeing.urls")),
    path("care/", include("xinyu.care.urls")),
    path("messages/", include("xinyu.notify.urls")),
    path("letters/", include("xinyu.mailbox.urls")),
    path("mailbox/", include("xinyu.mailbox.public_urls")),
    path("", include("xinyu.screening.public_urls")),
    path("counselling/", include("xinyu.counselling.urls")),
    path("staff/staffing/", include("xinyu.staff.staffing_urls")),
    path("staff/", include("xinyu.staff.urls")),
    path("", include("xinyu.counselling.public_urls")),
    path("training/certificates/", include("xinyu.training.cert_urls")),
    path("training/coverage/", include("xinyu.training.coverage_urls")),
    path("verify/", include("xinyu.training.public_urls")),
    path("training/", include("xinyu.training.urls")),
    path("lessons/", include("xinyu.lessons.urls")),
    path("outreach/", include("xinyu.outreach.urls")),
    path("homevisits/", include("xinyu.homevisits.urls")),
    path("events/", include("xinyu.schoolevents.urls")),
    path("compliance/", include("xinyu.compliance.run_urls")),
    path("compliance/", include("xinyu.compliance.self_urls")),
    path("compliance/", include("xinyu.compliance.urls")),
    path("api/", api.urls),
]
