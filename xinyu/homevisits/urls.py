"""/homevisits/: coverage per class, school and district, the phone page to record visits,
the visit list (filtered, paged, exported), one visit (note + evidence, for note readers
only; edit and delete for its recorder and the school's leaders), exports, bulk entry."""

from django.urls import path

from . import views

app_name = "homevisits"

urlpatterns = [
    path("", views.index, name="index"),
    path("class/<uuid:uid>/", views.class_page, name="class"),
    path("class/<uuid:uid>/export.xlsx", views.class_export, name="class_export"),
    path("class/<uuid:uid>/record/", views.record_page, name="record"),
    path("class/<uuid:uid>/record/<uuid:student_uid>/", views.record_visit, name="record_visit"),
    path("visits/", views.visit_list, name="visits"),
    path("visits/export.xlsx", views.visit_list_export, name="visits_export"),
    path("visit/<uuid:uid>/", views.visit_page, name="visit"),
    path("visit/<uuid:uid>/edit/", views.visit_edit, name="visit_edit"),
    path("visit/<uuid:uid>/delete/", views.visit_delete, name="visit_delete"),
    path("visit/<uuid:uid>/evidence/", views.add_evidence, name="add_evidence"),
    path("visit/<uuid:uid>/evidence/<uuid:file_uid>/", views.evidence_file, name="evidence_file"),
    path("school/<uuid:uid>/", views.school_page, name="school"),
    path("school/<uuid:uid>/export.xlsx", views.school_export, name="school_export"),
    path("district/", views.district_page, name="district"),
    path("district/export.xlsx", views.district_export, name="district_export"),
    path("import/", views.import_page, name="import"),
    path("import/template.xlsx", views.import_template, name="import_template"),
]
