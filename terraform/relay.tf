# The outbox relay (the trigger bridge) on Google Cloud: an HTTP function that drains for a
# bounded time, chained by Cloud Scheduler every minute.
#
# Why this and not a Cloud Run service with one always-on instance: the bundle registers
# outboxRelay as a functions-framework HTTP function (functions/src/relay/outbox-relay.ts,
# outboxRelayHttpHandler) that drains for the `ms` of its request body, up to its maxDrainMs,
# which functions/src/index.ts reads from SHEETSYNC_RELAY_DRAIN_MS. An invocation lasts
# relay_drain_seconds (75 s) and a new one starts every 60 s, so the next invocation is already
# there when the previous one returns: database → sheet stays real-time without a gap, the
# advisory lock keeps one relay publishing at a time (per-key order), and a crashed relay is
# replaced within a minute. It is billed for about 1.25 small instances (README "Cost at idle"),
# needs no container build, and deploys like the other functions.
#
# Real-time needs the drain to long-poll: keep waiting for NOTIFY (or poll) until the deadline
# when the outbox is empty, and wait for the lock while the previous invocation still holds it.
# A drain that returns at the first empty batch still delivers everything, but a change can wait
# up to a minute for the next start.

resource "google_cloud_scheduler_job" "outbox_relay" {
  name             = "sheetsync-outbox-relay"
  region           = var.region
  schedule         = "* * * * *"
  time_zone        = var.time_zone
  attempt_deadline = "${local.functions.outbox_relay.timeout}s"
  description      = "Starts an outboxRelay drain every minute; drains overlap so one always holds the lock."

  # A failed start is not retried: the next minute's start replaces it.
  retry_config {
    retry_count = 0
  }

  http_target {
    uri         = google_cloudfunctions2_function.sheetsync["outbox_relay"].service_config[0].uri
    http_method = "POST"
    headers     = { "Content-Type" = "application/json" }
    body        = base64encode(jsonencode({ ms = var.relay_drain_seconds * 1000 }))

    oidc_token {
      service_account_email = google_service_account.scheduler.email
      audience              = google_cloudfunctions2_function.sheetsync["outbox_relay"].service_config[0].uri
    }
  }

  depends_on = [google_cloud_run_service_iam_member.scheduler_invoker]
}
