from django.urls import path

from . import views

app_name = "mailbox"

urlpatterns = [
    path("", views.letters, name="letters"),
    path("<uuid:uid>/", views.letter_detail, name="letter"),
    path("<uuid:uid>/reply/", views.reply, name="reply"),
    path("<uuid:uid>/flag/", views.flag, name="flag"),
    path("<uuid:uid>/note/", views.note, name="note"),
    path("<uuid:uid>/close/", views.close, name="close"),
    path("<uuid:uid>/link/", views.link, name="link"),
    path("<uuid:uid>/warning/", views.warn, name="warning"),
]
