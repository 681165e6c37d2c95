# The scheduled full compare of sheet and table (repairs drift; the first run is the "attach").

resource "google_cloud_scheduler_job" "reconcile" {
  name             = "sheetsync-reconcile"
  region           = var.region
  schedule         = var.reconcile_schedule
  time_zone        = var.time_zone
  attempt_deadline = "1800s" # the most Cloud Scheduler allows for an HTTP target
  description      = "Full compare of every linked sheet tab and table."

  retry_config {
    retry_count          = 2
    min_backoff_duration = "60s"
  }

  http_target {
    uri         = google_cloudfunctions2_function.sheetsync["reconcile"].service_config[0].uri
    http_method = "POST"

    oidc_token {
      service_account_email = google_service_account.scheduler.email
      audience              = google_cloudfunctions2_function.sheetsync["reconcile"].service_config[0].uri
    }
  }

  depends_on = [google_cloud_run_service_iam_member.scheduler_invoker]
}
