# Sourced by .ci/run (bash, as root): a real PostgreSQL for the `postgres` tests.
#
# Installs Debian's `postgresql` when it is missing, starts the machine's cluster on 127.0.0.1
# (one already running is left as it is), makes the tests' role and database (again: no harm),
# and exports AFTERHOURS_TEST_POSTGRES_URL, which tests/pg.py reads before any test runs.
# By hand: `source .ci/postgres.sh && echo "$AFTERHOURS_TEST_POSTGRES_URL"`.

afterhours_pg_role=afterhours
afterhours_pg_database=afterhours_test
# A loopback-only test cluster: this password guards nothing else.
afterhours_pg_password=${AFTERHOURS_TEST_POSTGRES_PASSWORD:-afterhours-ci}

if ! command -v pg_lsclusters >/dev/null 2>&1 \
        || ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; } \
        > /tmp/afterhours-postgres-install.txt 2>&1 \
        || { echo "PostgreSQL install failed:"; tail -20 /tmp/afterhours-postgres-install.txt;
             exit 1; }
fi

# The package makes a cluster `main` unless told not to; make one if there is none.
if [ -z "$(pg_lsclusters --no-header)" ]; then
    pg_createcluster "$(ls /usr/lib/postgresql | sort -V | tail -n 1)" main >/dev/null
fi
read -r afterhours_pg_version afterhours_pg_cluster afterhours_pg_port afterhours_pg_status _ \
    < <(pg_lsclusters --no-header | head -n 1)
case "$afterhours_pg_status" in
    online*) ;;
    *) pg_ctlcluster "$afterhours_pg_version" "$afterhours_pg_cluster" start ;;
esac
pg_isready --quiet --timeout=30 --host=127.0.0.1 --port="$afterhours_pg_port" \
    || { echo "PostgreSQL $afterhours_pg_version/$afterhours_pg_cluster does not answer on" \
              "127.0.0.1:$afterhours_pg_port"; exit 1; }

# CREATEDB: tests/pg.py gives each test a database of its own and drops it afterwards.
(cd / && runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 --port="$afterhours_pg_port" \
    --dbname=postgres -v role="$afterhours_pg_role" -v password="$afterhours_pg_password" \
    -v database="$afterhours_pg_database") <<'SQL'
SELECT format('CREATE ROLE %I', :'role')
    WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') \gexec
SELECT format('ALTER ROLE %I LOGIN CREATEDB PASSWORD %L', :'role', :'password') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'database', :'role')
    WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'database') \gexec
SQL

export AFTERHOURS_TEST_POSTGRES_URL="postgresql://$afterhours_pg_role:$afterhours_pg_password@127.0.0.1:$afterhours_pg_port/$afterhours_pg_database"
