locals {
  apis = toset([
    "artifactregistry.googleapis.com", # gen2 functions store their images here
    "cloudbuild.googleapis.com",       # builds the function source
    "cloudfunctions.googleapis.com",
    "cloudscheduler.googleapis.com",
    "compute.googleapis.com",
    "firestore.googleapis.com",
    "iam.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
    "pubsub.googleapis.com",
    "run.googleapis.com", # gen2 functions are Cloud Run services
    "secretmanager.googleapis.com",
    "servicenetworking.googleapis.com", # private IP for Cloud SQL
    "sheets.googleapis.com",
    "sqladmin.googleapis.com",
    "vpcaccess.googleapis.com",
  ])
}

resource "google_project_service" "required" {
  for_each = local.apis
  project  = var.project_id
  service  = each.value
  # Other workloads in the project may use the same APIs; destroying sheetsync must not cut them off.
  disable_on_destroy = false
}
