from django.urls import path, re_path

from sightings import browsing, camtrapdp_views, resumable, views

app_name = "sightings"

urlpatterns = [
    path("", views.home, name="home"),
    path("deployments/<int:pk>/", views.deployment_media, name="deployment_media"),
    path("deployments/<int:pk>/upload/", views.upload, name="upload"),
    path("deployments/<int:pk>/batches/", resumable.new_batch, name="new_batch"),
    # The tus protocol (resumable.py): creation, then each upload's own address.
    path("deployments/<int:pk>/uploads/", resumable.create, name="resumable_create"),
    path("uploads/<uuid:upload_id>/", resumable.upload, name="resumable_upload"),
    path("batches/<int:pk>/", views.batch_detail, name="batch_detail"),
    path("batches/<int:pk>/progress/", views.batch_progress, name="batch_progress"),
    path("batches/<int:pk>/retry/", views.retry_batch, name="retry_batch"),
    path("batches/<int:pk>/folders/", views.answer_folders, name="answer_folders"),
    path("batches/<int:pk>/annotate/", views.annotate_batch, name="annotate_batch"),
    path("deployments/<int:pk>/annotate/", views.annotate_deployment, name="annotate_deployment"),
    path("deployments/<int:pk>/annotate/many/", views.name_many, name="name_many"),
    path("events/<int:pk>/", views.event_detail, name="event_detail"),
    path("events/<int:pk>/sightings/", views.add_sighting, name="add_sighting"),
    path("sightings/<int:pk>/name/", views.name_sighting, name="name_sighting"),
    path("individuals/", views.individuals, name="individuals"),
    path("individuals/new/", views.individual_edit, name="individual_create"),
    path("individuals/<int:pk>/", views.individual_detail, name="individual_detail"),
    path("individuals/<int:pk>/edit/", views.individual_edit, name="individual_edit"),
    path("media/<int:pk>/reference/", views.add_reference, name="add_reference"),
    path("record-table/", views.record_table, name="record_table"),
    path("sightings/", browsing.browse, name="browse"),
    path("sightings.csv", browsing.export_csv, name="export_csv"),
    path("sightings/count/", browsing.count, name="count"),
    path("sightings/camtrap-dp/", camtrapdp_views.export, name="export_camtrapdp"),
    path("exports/<uuid:pk>/", camtrapdp_views.export_job, name="export_job"),
    path(
        "exports/<uuid:pk>/progress/",
        camtrapdp_views.export_job_progress,
        name="export_job_progress",
    ),
    path(
        "exports/<uuid:pk>/download/",
        camtrapdp_views.export_job_download,
        name="export_job_download",
    ),
    path("map/", browsing.map_page, name="map_page"),
    path("map.geojson", browsing.geojson, name="geojson"),
    path("sightings/<int:pk>/", browsing.sighting_detail, name="sighting_detail"),
    path("sightings/<int:pk>/review/", browsing.review_sighting, name="review_sighting"),
    path("media/<int:pk>/", views.media_detail, name="media_detail"),
    path("media/<int:pk>/retry/", views.retry_media, name="retry_media"),
    re_path(
        r"^media/(?P<pk>[0-9]+)/(?P<kind>original|preview|thumbnail)/$",
        views.media_file,
        name="media_file",
    ),
]
