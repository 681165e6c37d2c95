# Log-based metrics from the functions' structured logs (functions/src/log.ts: jsonPayload carries
# link, rowId, op, origin, latencyMs, code), and the alerts and dashboard built only on them.

locals {
  function_logs = "resource.type=\"cloud_run_revision\" AND resource.labels.service_name=~\"^sheetsync-\""
  metric_type   = { for key, metric in google_logging_metric.sheetsync : key => "logging.googleapis.com/user/${metric.name}" }
}

resource "google_logging_metric" "sheetsync" {
  for_each = {
    # Time from the change at its origin to its apply on the other side, in ms: what the two apply
    # functions log (the webhook's latencyMs is only the edit → webhook leg).
    sync_lag = {
      filter = "(resource.labels.service_name=\"sheetsync-apply-to-db\" OR resource.labels.service_name=\"sheetsync-apply-to-sheet\") AND jsonPayload.latencyMs>=0"
      kind   = "DELTA", value = "DISTRIBUTION", unit = "ms"
      labels = { link = "jsonPayload.link", origin = "jsonPayload.origin" }
    }
    # One entry per conflict (op = "conflict"), whatever the policy decided.
    conflicts = {
      filter = "jsonPayload.op=\"conflict\"", kind = "DELTA", value = "INT64", unit = "1"
      labels = { link = "jsonPayload.link" }
    }
    # Every error the functions log, by its SHEETSYNC_E code (docs/errors.md).
    errors = {
      filter = "severity>=ERROR", kind = "DELTA", value = "INT64", unit = "1"
      labels = { code = "jsonPayload.code", function = "resource.labels.service_name" }
    }
    # A message given up on and sent to a dead-letter topic (op = "dead-letter").
    dead_letters = {
      filter = "jsonPayload.op=\"dead-letter\"", kind = "DELTA", value = "INT64", unit = "1"
      labels = { link = "jsonPayload.link", code = "jsonPayload.code" }
    }
  }

  name             = "sheetsync/${each.key}"
  description      = "sheetsync ${replace(each.key, "_", " ")}"
  filter           = "${local.function_logs} AND ${each.value.filter}"
  value_extractor  = each.value.value == "DISTRIBUTION" ? "EXTRACT(jsonPayload.latencyMs)" : null
  label_extractors = { for label, field in each.value.labels : label => "EXTRACT(${field})" }

  metric_descriptor {
    metric_kind = each.value.kind
    value_type  = each.value.value
    unit        = each.value.unit

    dynamic "labels" {
      for_each = each.value.labels
      content {
        key        = labels.key
        value_type = "STRING"
      }
    }
  }

  dynamic "bucket_options" {
    for_each = each.value.value == "DISTRIBUTION" ? [1] : []
    content {
      # 10 ms … about 10 min in 30 buckets (×1.5 each).
      exponential_buckets {
        num_finite_buckets = 30
        growth_factor      = 1.5
        scale              = 10
      }
    }
  }
}

resource "google_monitoring_notification_channel" "email" {
  count        = var.alert_email == "" ? 0 : 1
  display_name = "sheetsync alerts"
  type         = "email"
  labels       = { email_address = var.alert_email }
  depends_on   = [google_project_service.required]
}

locals {
  alerts = {
    sync_lag = {
      title     = "sheetsync: sync lag p95 above ${var.alert_sync_lag_ms} ms"
      metric    = "sync_lag"
      aligner   = "ALIGN_PERCENTILE_95"
      reducer   = "REDUCE_MAX"
      threshold = var.alert_sync_lag_ms
      duration  = "600s"
      doc       = "Changes take too long to reach the other side. Check the relay's Cloud Scheduler job, Sheets API 429s (SHEETSYNC_E5xx) and the push subscriptions' backlog."
    }
    errors = {
      title     = "sheetsync: errors logged"
      metric    = "errors"
      aligner   = "ALIGN_SUM"
      reducer   = "REDUCE_SUM"
      threshold = 0
      duration  = "300s"
      doc       = "Functions log errors. The code label names the error; docs/errors.md has its cause and remedy. README \"Logs\" lists them."
    }
    dead_letters = {
      title     = "sheetsync: messages dead-lettered"
      metric    = "dead_letters"
      aligner   = "ALIGN_SUM"
      reducer   = "REDUCE_SUM"
      threshold = 0
      duration  = "0s"
      doc       = "A change could not be applied and went to a dead-letter topic. Pull it from the *-dead-letter subscription, fix the cause, and republish it or run reconcile."
    }
  }
}

resource "google_monitoring_alert_policy" "sheetsync" {
  for_each              = local.alerts
  display_name          = each.value.title
  combiner              = "OR"
  notification_channels = google_monitoring_notification_channel.email[*].id

  conditions {
    display_name = each.value.title

    condition_threshold {
      filter          = "metric.type=\"${local.metric_type[each.value.metric]}\" AND resource.type=\"cloud_run_revision\""
      comparison      = "COMPARISON_GT"
      threshold_value = each.value.threshold
      duration        = each.value.duration

      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = each.value.aligner
        cross_series_reducer = each.value.reducer
      }

      trigger {
        count = 1
      }
    }
  }

  documentation {
    content   = each.value.doc
    mime_type = "text/markdown"
  }

  alert_strategy {
    auto_close = "86400s"
  }
}

resource "google_monitoring_dashboard" "sheetsync" {
  dashboard_json = jsonencode({
    displayName = "sheetsync"
    mosaicLayout = {
      columns = 12
      tiles = [for index, chart in [
        { title = "Sync lag p50 / p95 (ms)", metric = "sync_lag", aligners = ["ALIGN_PERCENTILE_50", "ALIGN_PERCENTILE_95"], group = ["metric.label.origin"] },
        { title = "Errors by code", metric = "errors", aligners = ["ALIGN_RATE"], group = ["metric.label.code"] },
        { title = "Conflicts by link", metric = "conflicts", aligners = ["ALIGN_RATE"], group = ["metric.label.link"] },
        { title = "Dead-lettered messages", metric = "dead_letters", aligners = ["ALIGN_RATE"], group = ["metric.label.code"] },
        ] : {
        xPos   = (index % 2) * 6
        yPos   = floor(index / 2) * 4
        width  = 6
        height = 4
        widget = {
          title = chart.title
          xyChart = {
            dataSets = [for aligner in chart.aligners : {
              plotType = "LINE"
              timeSeriesQuery = {
                timeSeriesFilter = {
                  filter = "metric.type=\"${local.metric_type[chart.metric]}\" AND resource.type=\"cloud_run_revision\""
                  aggregation = {
                    alignmentPeriod    = "60s"
                    perSeriesAligner   = aligner
                    crossSeriesReducer = aligner == "ALIGN_RATE" ? "REDUCE_SUM" : "REDUCE_MAX"
                    groupByFields      = chart.group
                  }
                }
              }
            }]
          }
        }
      }]
    }
  })
}
