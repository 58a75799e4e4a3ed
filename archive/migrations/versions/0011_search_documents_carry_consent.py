"""search documents carry the consent columns; their texts move to search_text

Revision ID: 0011
Revises: 0010

For the PostgreSQL search backend at 100,000 items: a search filters and counts on
``search_document`` alone, without joining ``artefact`` (see ``archive.models.search``).

* ``search_document`` gains a copy of ``artefact``'s programme_id, status, consent_level,
  reviewed_at and created_at. On PostgreSQL a trigger on ``artefact`` rewrites the copy in the
  same statement as any change to those columns, so it never lags a withdrawal or a consent change.
* The texts (title, story, transcript, OCR, segments) move to ``search_text``: they are read for
  the 20 hits of a page only, and without them the rows a search scans are a third narrower.
* Indexes for the filters that pick out a few items: session, area, date, and (PostgreSQL) the
  theme and theme:polarity lists; the GIN indexes keep short pending lists.

Existing rows are carried over (set aside, then written back in the new shape), so search keeps
working without a reindex.
"""

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

TEXTS = ('title', 'story', 'transcript', 'ocr', 'segments')
# What a search_document row keeps as it is; programme_id is re-read from artefact with the rest of FOLLOWED.
KEPT = ('artefact_id', 'session_id', 'kind', 'age_band', 'area', 'place', 'place_type',
        'themes', 'polarity', 'theme_polarity', 'theme_source', 'tsv')
FOLLOWED = ('programme_id', 'status', 'consent_level', 'reviewed_at', 'created_at')
INDEXED = ('session_id', 'area', 'created_at')  # filters that pick out a few items (btree)
LISTS = ('themes', 'theme_polarity')  # comma-separated lists filtered by value (GIN, PostgreSQL only)
# New GIN entries wait in an unsorted pending list that every search reads in full until it is
# merged; PostgreSQL's default lets it reach 4 MB (about 10 ms a search). 512 kB bounds that
# for items indexed one by one, and costs a rebuild about a second.
PENDING_LIMIT = 'gin_pending_list_limit = 512'

FOLLOW_FUNCTION = """
CREATE FUNCTION search_document_follow_artefact() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE search_document
       SET programme_id = NEW.programme_id, status = NEW.status, consent_level = NEW.consent_level,
           reviewed_at = NEW.reviewed_at, created_at = NEW.created_at
     WHERE artefact_id = NEW.id;
    RETURN NULL;
END
$$
"""
FOLLOW_TRIGGER = f"""
CREATE TRIGGER search_document_follows_artefact
AFTER UPDATE OF {', '.join(FOLLOWED)} ON artefact
FOR EACH ROW
WHEN (({', '.join(f'OLD.{c}' for c in FOLLOWED)}) IS DISTINCT FROM ({', '.join(f'NEW.{c}' for c in FOLLOWED)}))
EXECUTE FUNCTION search_document_follow_artefact()
"""


def _on_postgres() -> bool:
    return op.get_bind().dialect.name == 'postgresql'


def upgrade() -> None:
    # The rows are set aside, the table emptied and refilled in its new shape: updating every row
    # in place would leave PostgreSQL a dead copy of each, and the dropped columns' texts inside
    # the live ones, for every search to read until the table was rewritten.
    op.execute(f"CREATE TEMPORARY TABLE search_document_was AS "
               f"SELECT {', '.join(f'd.{c}' for c in (*KEPT, *TEXTS))}, {', '.join(f'a.{c}' for c in FOLLOWED)} "
               "FROM search_document d JOIN artefact a ON a.id = d.artefact_id")
    op.execute('TRUNCATE search_document' if _on_postgres() else 'DELETE FROM search_document')

    with op.batch_alter_table('search_document', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=32), nullable=False))
        batch_op.add_column(sa.Column('consent_level', sa.Integer(), nullable=False))
        batch_op.add_column(sa.Column('reviewed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('created_at', sa.DateTime(), nullable=False))
        for name in TEXTS:
            batch_op.drop_column(name)
        for name in INDEXED:
            batch_op.create_index(batch_op.f(f'ix_search_document_{name}'), [name], unique=False)
    if _on_postgres():
        for name in LISTS:
            op.execute(f"CREATE INDEX ix_search_document_{name} ON search_document USING gin "
                       f"(string_to_array({name}, ',')) WITH ({PENDING_LIMIT})")
        op.execute(f'ALTER INDEX ix_search_document_tsv SET ({PENDING_LIMIT})')
    columns = ', '.join((*KEPT, *FOLLOWED))
    op.execute(f'INSERT INTO search_document ({columns}) SELECT {columns} FROM search_document_was')

    op.create_table('search_text',
    sa.Column('artefact_id', sa.Uuid(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('story', sa.Text(), nullable=False),
    sa.Column('transcript', sa.Text(), nullable=False),
    sa.Column('ocr', sa.Text(), nullable=False),
    sa.Column('segments', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['artefact_id'], ['search_document.artefact_id'], name=op.f('fk_search_text_artefact_id_search_document'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('artefact_id', name=op.f('pk_search_text'))
    )
    texts = ', '.join(('artefact_id', *TEXTS))
    op.execute(f'INSERT INTO search_text ({texts}) SELECT {texts} FROM search_document_was')
    op.execute('DROP TABLE search_document_was')

    if _on_postgres():
        op.execute('ANALYZE search_document')
        op.execute(FOLLOW_FUNCTION)
        op.execute(FOLLOW_TRIGGER)


def downgrade() -> None:
    if _on_postgres():
        op.execute('DROP TRIGGER search_document_follows_artefact ON artefact')
        op.execute('DROP FUNCTION search_document_follow_artefact()')
        for name in LISTS:
            op.execute(f'DROP INDEX ix_search_document_{name}')
        op.execute('ALTER INDEX ix_search_document_tsv RESET (gin_pending_list_limit)')
    with op.batch_alter_table('search_document', schema=None) as batch_op:
        for name in INDEXED:
            batch_op.drop_index(batch_op.f(f'ix_search_document_{name}'))
        for name in TEXTS:
            batch_op.add_column(sa.Column(name, sa.Text(), nullable=False, server_default=''))
    restored = ', '.join(f'{c} = (SELECT search_text.{c} FROM search_text WHERE search_text.artefact_id = search_document.artefact_id)'
                         for c in TEXTS)
    op.execute(f'UPDATE search_document SET {restored}')
    with op.batch_alter_table('search_document', schema=None) as batch_op:
        for name in TEXTS:
            batch_op.alter_column(name, server_default=None)
        for name in ('created_at', 'reviewed_at', 'consent_level', 'status'):
            batch_op.drop_column(name)
    op.drop_table('search_text')
