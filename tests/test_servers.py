"""The throwaway servers the other tests rely on actually answer."""

import redis
import sqlalchemy as sa


def test_postgres_fixture_is_a_working_server(postgres_url):
    engine = sa.create_engine(postgres_url)
    try:
        with engine.connect() as conn:
            assert "PostgreSQL" in conn.execute(sa.text("select version()")).scalar_one()
            assert conn.execute(sa.text("select current_database()")).scalar_one() == "chorus"
    finally:
        engine.dispose()


def test_fresh_postgres_database_is_empty_and_isolated(fresh_postgres_url, postgres_url):
    fresh = sa.create_engine(fresh_postgres_url)
    shared = sa.create_engine(postgres_url)
    try:
        assert sa.inspect(fresh).get_table_names() == []
        with fresh.begin() as conn:
            conn.execute(sa.text("create table only_here (id int)"))
        assert sa.inspect(fresh).get_table_names() == ["only_here"]
        assert "only_here" not in sa.inspect(shared).get_table_names()
    finally:
        fresh.dispose()
        shared.dispose()


def test_redis_fixture_is_a_working_server(redis_url):
    client = redis.Redis.from_url(redis_url)
    try:
        assert client.ping()
    finally:
        client.close()
