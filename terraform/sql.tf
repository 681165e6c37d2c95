# Cloud SQL for PostgreSQL, or for MySQL with database_engine = "mysql": created here
# (cloudsql_create = true) or an existing instance named by its connection name.
#
# MySQL: point-in-time recovery is the binary log there (binary_log_enabled; Cloud SQL's
# point_in_time_recovery_enabled is for PostgreSQL), and with the binary log on MySQL lets a
# user without SUPER create the capture triggers only with log_bin_trust_function_creators
# (docs/design/mysql.md). The binlog reader designed there would also need binlog_row_image =
# full (MySQL's default) and a replication user; trigger capture needs neither.
#
# Connectivity: private IP through a Serverless VPC Access connector. Gen2 functions have no
# Terraform setting for the Cloud SQL unix socket (/cloudsql/...): that needs an edit of the
# underlying Cloud Run service outside Terraform, which the next deploy could undo, and the
# Cloud SQL Node connector would add a dependency and a cold-start handshake. Private IP keeps
# the database off the internet (no public IP at all), and postgres.js connects with a plain URL.
#
# Server verification: the functions check the server's certificate against the instance's own
# server CAs (SHEETSYNC_DATABASE_CA) and its name against the instance (SHEETSYNC_DATABASE_INSTANCE;
# functions/src/adapters/postgres-tls.ts). `sslmode=require` alone encrypts without checking who
# answers. A CA rotation: add the upcoming CA (`gcloud sql ssl server-ca-certs create`), run
# `terraform apply` (the functions then trust both), rotate, apply again.

locals {
  mysql = var.database_engine == "mysql"
  existing_instance = var.cloudsql_create ? null : {
    project = split(":", var.cloudsql_connection_name)[0]
    name    = split(":", var.cloudsql_connection_name)[2]
  }
  database_host   = var.cloudsql_create ? google_sql_database_instance.sheetsync[0].private_ip_address : data.google_sql_database_instance.existing[0].private_ip_address
  connection_name = var.cloudsql_create ? google_sql_database_instance.sheetsync[0].connection_name : var.cloudsql_connection_name
  # Every server CA the instance trusts: the current one and, during a rotation, the upcoming one.
  database_ca = join("\n", [for ca in data.google_sql_ca_certs.sheetsync.certs : ca.cert])
}

data "google_sql_ca_certs" "sheetsync" {
  instance = var.cloudsql_create ? google_sql_database_instance.sheetsync[0].name : local.existing_instance.name
  project  = var.cloudsql_create ? var.project_id : local.existing_instance.project
  # Read once the created instance exists (its CAs are made with it), not at plan time.
  depends_on = [google_sql_database_instance.sheetsync]
}

data "google_sql_database_instance" "existing" {
  count   = var.cloudsql_create ? 0 : 1
  name    = local.existing_instance.name
  project = local.existing_instance.project
}

# Private services access: one reserved range per network, peered with Google's service network.
resource "google_compute_global_address" "private_services" {
  count         = var.cloudsql_create && var.cloudsql_create_private_services_access ? 1 : 0
  name          = "sheetsync-private-services"
  purpose       = "VPC_PEERING"
  address_type  = "INTERNAL"
  prefix_length = 20
  network       = data.google_compute_network.vpc.id
  depends_on    = [google_project_service.required]
}

resource "google_service_networking_connection" "private_services" {
  count                   = var.cloudsql_create && var.cloudsql_create_private_services_access ? 1 : 0
  network                 = data.google_compute_network.vpc.id
  service                 = "servicenetworking.googleapis.com"
  reserved_peering_ranges = [google_compute_global_address.private_services[0].name]
}

resource "google_sql_database_instance" "sheetsync" {
  count               = var.cloudsql_create ? 1 : 0
  name                = var.cloudsql_instance_name
  region              = var.region
  database_version    = local.mysql ? "MYSQL_8_0" : "POSTGRES_17"
  deletion_protection = true

  settings {
    tier              = var.cloudsql_tier
    edition           = "ENTERPRISE" # shared-core tiers exist only in Enterprise edition
    availability_type = "ZONAL"
    disk_type         = "PD_SSD"
    disk_size         = var.cloudsql_disk_size_gb
    disk_autoresize   = true

    ip_configuration {
      ipv4_enabled    = false
      private_network = data.google_compute_network.vpc.id
      ssl_mode        = "ENCRYPTED_ONLY"
    }

    backup_configuration {
      enabled                        = true
      point_in_time_recovery_enabled = local.mysql ? null : true
      binary_log_enabled             = local.mysql ? true : null
    }

    dynamic "database_flags" {
      for_each = local.mysql ? { log_bin_trust_function_creators = "on" } : {}
      content {
        name  = database_flags.key
        value = database_flags.value
      }
    }
  }

  depends_on = [google_service_networking_connection.private_services]
}

resource "google_sql_database" "sheetsync" {
  count    = var.cloudsql_create ? 1 : 0
  name     = var.database_name
  instance = google_sql_database_instance.sheetsync[0].name
}

resource "google_sql_user" "sheetsync" {
  count               = var.cloudsql_create ? 1 : 0
  name                = var.database_user
  instance            = google_sql_database_instance.sheetsync[0].name
  password_wo         = var.database_password
  password_wo_version = var.secret_values_version
}

resource "google_vpc_access_connector" "sheetsync" {
  name          = "sheetsync"
  region        = var.region
  network       = data.google_compute_network.vpc.name
  ip_cidr_range = var.vpc_connector_cidr
  machine_type  = "e2-micro"
  min_instances = 2 # the smallest connector Google allows
  max_instances = 3
  depends_on    = [google_project_service.required]
}
