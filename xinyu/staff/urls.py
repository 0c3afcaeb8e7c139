from django.urls import path

from . import views

app_name = "staff"

urlpatterns = [
    path("register/", views.register, name="register"),  # "staff/" itself is the roster's staff list
    path("register/export.xlsx", views.register_export, name="export"),
    path("schools/<uuid:uid>/", views.school_register, name="school"),
    path("new/", views.member_new, name="member_new"),
    path("me/", views.mine, name="mine"),
    path("corrections/", views.corrections, name="corrections"),
    path("corrections/<uuid:uid>/confirm/", views.correction_confirm, name="correction_confirm"),
    path("corrections/<uuid:uid>/return/", views.correction_return, name="correction_return"),
    path("import/", views.import_register, name="import"),
    path("import/template.xlsx", views.import_template, name="import_template"),
    path("certificates/<uuid:uid>/", views.certificate_edit, name="certificate_edit"),
    path("certificates/<uuid:uid>/revoke/", views.certificate_revoke, name="certificate_revoke"),
    path("<uuid:uid>/", views.member_detail, name="member"),
    path("<uuid:uid>/edit/", views.member_edit, name="member_edit"),
    path("<uuid:uid>/posts/", views.posts, name="posts"),
    path("<uuid:uid>/certificates/", views.certificate_add, name="certificate_add"),
]
