# The version store (DESIGN.md §2, Row document): a named Native-mode database, so sheetsync never
# collides with a project's (default) database.

resource "google_firestore_database" "sheetsync" {
  name                              = "sheetsync"
  location_id                       = var.region
  type                              = "FIRESTORE_NATIVE"
  point_in_time_recovery_enablement = "POINT_IN_TIME_RECOVERY_ENABLED"
  delete_protection_state           = "DELETE_PROTECTION_ENABLED"
  deletion_policy                   = "DELETE"
  depends_on                        = [google_project_service.required]
}
