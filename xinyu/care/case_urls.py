from django.urls import path

from .views import cases as views

urlpatterns = [
    path("concerns/new/", views.concern_new, name="concern_new"),
    path("concerns/", views.concerns, name="concerns"),
    path("attention/", views.attention, name="attention"),
    path("attention/<uuid:uid>/", views.attention_detail, name="attention_detail"),
    path("attention/<uuid:uid>/acknowledge/", views.attention_acknowledge, name="attention_acknowledge"),
    path("tasks/<uuid:uid>/answer/", views.task_answer, name="task_answer"),
    path("warnings/<uuid:uid>/triage/", views.triage, name="triage"),
    path("cases/", views.case_list, name="cases"),
    path("cases/<uuid:uid>/", views.case_detail, name="case"),
    path("cases/<uuid:uid>/actions/<int:action_id>/", views.case_action, name="case_action"),
    path("cases/<uuid:uid>/plan/", views.case_plan, name="case_plan"),
    path("cases/<uuid:uid>/entries/", views.case_entry, name="case_entry"),
    path("cases/<uuid:uid>/team/", views.case_team, name="case_team"),
    path("cases/<uuid:uid>/tier/", views.case_tier, name="case_tier"),
    path("cases/<uuid:uid>/escalate/", views.case_escalate, name="case_escalate"),
    path("cases/<uuid:uid>/guardian/", views.case_guardian, name="case_guardian"),
    path("cases/<uuid:uid>/disclosure/", views.case_disclosure, name="case_disclosure"),
    path("cases/<uuid:uid>/ask/", views.case_ask, name="case_ask"),
    path("cases/<uuid:uid>/reassess/", views.case_reassess, name="case_reassess"),
    path("cases/<uuid:uid>/close/", views.case_close, name="case_close"),
    path("cases/<uuid:uid>/reopen/", views.case_reopen, name="case_reopen"),
    path("cases/<uuid:uid>/end/", views.case_end, name="case_end"),
]
