# The five functions, gen2, all from one bundle (`npm run package` → dist/functions.zip, see
# scripts/package-functions.ts). The object name carries the archive's hash, so a new bundle
# redeploys every function and an unchanged one redeploys none.

resource "google_storage_bucket" "source" {
  name                        = "${var.project_id}-sheetsync-source"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = true
  depends_on                  = [google_project_service.required]
}

resource "google_storage_bucket_object" "functions_zip" {
  name   = "functions-${filemd5(var.function_archive)}.zip"
  bucket = google_storage_bucket.source.name
  source = var.function_archive
}

resource "google_cloudfunctions2_function" "sheetsync" {
  for_each    = local.functions
  name        = each.value.name
  location    = var.region
  description = "sheetsync ${each.value.entry_point}"

  build_config {
    runtime         = "nodejs22"
    entry_point     = each.value.entry_point
    service_account = google_service_account.build.id

    source {
      storage_source {
        bucket = google_storage_bucket.source.name
        object = google_storage_bucket_object.functions_zip.name
      }
    }
  }

  service_config {
    service_account_email            = google_service_account.function[each.key].email
    available_memory                 = each.value.memory
    available_cpu                    = each.value.cpu
    timeout_seconds                  = each.value.timeout
    min_instance_count               = each.value.min_instances
    max_instance_count               = each.value.max_instances
    max_instance_request_concurrency = each.value.concurrency
    # Every caller is authenticated by Cloud Run IAM (OIDC from Pub/Sub and Cloud Scheduler), except
    # the webhook, which is public and checks the HMAC signature itself.
    ingress_settings               = "ALLOW_ALL"
    all_traffic_on_latest_revision = true
    environment_variables          = local.function_env

    # Private IP to Cloud SQL through the connector; everything else (Google APIs) leaves directly.
    vpc_connector                 = each.value.database ? google_vpc_access_connector.sheetsync.id : null
    vpc_connector_egress_settings = each.value.database ? "PRIVATE_RANGES_ONLY" : null

    dynamic "secret_environment_variables" {
      for_each = each.value.secrets
      content {
        key        = secret_environment_variables.key
        project_id = var.project_id
        secret     = secret_environment_variables.value
        version    = "latest"
      }
    }
  }

  depends_on = [
    google_project_service.required,
    google_secret_manager_secret_iam_member.webhook_accessor,
    google_secret_manager_secret_iam_member.database_url_accessor,
    google_secret_manager_secret_version.webhook,
    google_secret_manager_secret_version.database_url,
    google_project_iam_member.build,
    google_storage_bucket_iam_member.build_source_reader,
  ]
}

# The Apps Script calls the webhook without Google credentials; the HMAC signature is the gate.
resource "google_cloud_run_service_iam_member" "webhook_public" {
  location = var.region
  service  = google_cloudfunctions2_function.sheetsync["sheet_webhook"].name
  role     = "roles/run.invoker"
  member   = "allUsers"
}

resource "google_cloud_run_service_iam_member" "pubsub_push_invoker" {
  for_each = local.push_subscriptions
  location = var.region
  service  = google_cloudfunctions2_function.sheetsync[each.key].name
  role     = "roles/run.invoker"
  member   = google_service_account.pubsub_push.member
}

resource "google_cloud_run_service_iam_member" "scheduler_invoker" {
  for_each = toset(["outbox_relay", "reconcile"])
  location = var.region
  service  = google_cloudfunctions2_function.sheetsync[each.key].name
  role     = "roles/run.invoker"
  member   = google_service_account.scheduler.member
}
