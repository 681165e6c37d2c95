# Topics and push subscriptions (DESIGN.md §1). Every arrow is at-least-once; ordering keys are
# link/rowId (sheet changes) and link/primary key (database changes).
#
# The subscriptions are ours rather than Eventarc's: an Eventarc trigger creates its own
# subscription, without message ordering or a dead-letter policy. Ours push to the function's
# URL with an OIDC token. applyToDb and applyToSheet are HTTP functions that read the push body
# themselves (functions/src/runtime/pubsub-push.ts): functions-framework's CloudEvent conversion
# drops its deliveryAttempt, which applyToDb's deferral cap counts.

# The push subscriptions' settings live in subscriptions.json, which `sheetsync start --as-deployed`
# (cli/src/as-deployed/) reads too, so the local push path cannot drift from what is deployed.
# ack_deadline_seconds is the push request's timeout: keep it at the function's timeout (main.tf).
locals {
  push_subscriptions = jsondecode(file("${path.module}/subscriptions.json"))
}

resource "google_pubsub_topic" "sheet_changes" {
  name                       = local.topics.sheet_changes
  message_retention_duration = "604800s" # 7 days: a subscription can be replayed with seek
  depends_on                 = [google_project_service.required]
}

resource "google_pubsub_topic" "db_changes" {
  name                       = local.topics.db_changes
  message_retention_duration = "604800s"
  depends_on                 = [google_project_service.required]
}

resource "google_pubsub_topic" "dead_letter" {
  for_each                   = local.topics
  name                       = "${each.value}-dead-letter"
  message_retention_duration = "2678400s" # 31 days, the maximum: time to inspect and replay
  depends_on                 = [google_project_service.required]
}

# Each dead-letter topic has a pull subscription, or forwarded messages would be dropped
# (Pub/Sub keeps messages only for subscriptions that exist when they are published).
resource "google_pubsub_subscription" "dead_letter" {
  for_each                   = local.topics
  name                       = "${each.value}-dead-letter"
  topic                      = google_pubsub_topic.dead_letter[each.key].id
  message_retention_duration = "604800s" # the maximum for a subscription
  retain_acked_messages      = true
  ack_deadline_seconds       = 60

  expiration_policy {
    ttl = "" # never expire, even when nobody pulls for 31 days
  }
}

resource "google_pubsub_subscription" "push" {
  for_each = local.push_subscriptions
  name     = google_cloudfunctions2_function.sheetsync[each.key].name
  topic    = each.value.topic == "sheet_changes" ? google_pubsub_topic.sheet_changes.id : google_pubsub_topic.db_changes.id

  enable_message_ordering    = each.value.enable_message_ordering
  ack_deadline_seconds       = each.value.ack_deadline_seconds
  message_retention_duration = "604800s"

  push_config {
    push_endpoint = google_cloudfunctions2_function.sheetsync[each.key].service_config[0].uri

    oidc_token {
      service_account_email = google_service_account.pubsub_push.email
      audience              = google_cloudfunctions2_function.sheetsync[each.key].service_config[0].uri
    }
  }

  # Retryable failures (a non-2xx answer) come back with exponential backoff; after
  # max_delivery_attempts the message goes to the dead-letter topic instead of blocking its
  # ordering key for ever.
  retry_policy {
    minimum_backoff = "${each.value.minimum_backoff_seconds}s"
    maximum_backoff = "${each.value.maximum_backoff_seconds}s"
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter[each.value.dead_letter].id
    max_delivery_attempts = each.value.max_delivery_attempts
  }

  expiration_policy {
    ttl = ""
  }

  depends_on = [
    google_pubsub_topic_iam_member.dead_letter_publisher,
    google_cloud_run_service_iam_member.pubsub_push_invoker,
  ]
}
