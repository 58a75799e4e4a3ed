"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-24 01:36:00.616544
"""

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    
    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('actor_kind', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.String(length=64), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('object_type', sa.String(length=32), nullable=False),
    sa.Column('object_id', sa.String(length=64), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event'))
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_event_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_object_id'), ['object_id'], unique=False)

    op.create_table('programme',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('framework', sa.String(length=64), nullable=False),
    sa.Column('small_count_threshold', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme')),
    sa.UniqueConstraint('code', name=op.f('uq_programme_code'))
    )
    op.create_table('user_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('is_site_admin', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_account')),
    sa.UniqueConstraint('email', name=op.f('uq_user_account_email'))
    )
    op.create_table('custom_theme',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('child_label', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['programme_id'], ['programme.id'], name=op.f('fk_custom_theme_programme_id_programme'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_custom_theme')),
    sa.UniqueConstraint('programme_id', 'code', name=op.f('uq_custom_theme_programme_id'))
    )
    op.create_table('exhibit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('intro', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'published', name='exhibitstatus', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('published_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['programme_id'], ['programme.id'], name=op.f('fk_exhibit_programme_id_programme')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exhibit')),
    sa.UniqueConstraint('slug', name=op.f('uq_exhibit_slug'))
    )
    op.create_table('listening_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('place_type', sa.Enum('school', 'family_hub', 'youth_club', 'community', 'home', 'online', 'other', name='placetype', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('area_code', sa.String(length=32), nullable=False),
    sa.Column('age_band', sa.Enum('family_0_5', '5_11', '11_15', '16_19', '20_25_send', name='ageband', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('join_code', sa.String(length=16), nullable=False),
    sa.Column('join_code_expires_at', sa.DateTime(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['programme_id'], ['programme.id'], name=op.f('fk_listening_session_programme_id_programme')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_listening_session')),
    sa.UniqueConstraint('join_code', name=op.f('uq_listening_session_join_code'))
    )
    op.create_table('membership',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('admin', 'facilitator', 'analyst', name='role', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.ForeignKeyConstraint(['programme_id'], ['programme.id'], name=op.f('fk_membership_programme_id_programme'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_membership_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_membership')),
    sa.UniqueConstraint('user_id', 'programme_id', 'role', name=op.f('uq_membership_user_id'))
    )
    op.create_table('exhibit_section',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('exhibit_id', sa.Integer(), nullable=False),
    sa.Column('theme', sa.String(length=64), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['exhibit_id'], ['exhibit.id'], name=op.f('fk_exhibit_section_exhibit_id_exhibit'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exhibit_section'))
    )
    op.create_table('participant',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('alias', sa.String(length=40), nullable=False),
    sa.Column('avatar', sa.String(length=32), nullable=False),
    sa.Column('age_band', sa.Enum('family_0_5', '5_11', '11_15', '16_19', '20_25_send', name='ageband', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('birth_month', sa.Date(), nullable=True),
    sa.Column('area_code', sa.String(length=32), nullable=False),
    sa.Column('send', sa.Boolean(), nullable=False),
    sa.Column('pin_hash', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['programme_id'], ['programme.id'], name=op.f('fk_participant_programme_id_programme')),
    sa.ForeignKeyConstraint(['session_id'], ['listening_session.id'], name=op.f('fk_participant_session_id_listening_session')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_participant')),
    sa.UniqueConstraint('session_id', 'alias', name=op.f('uq_participant_session_id'))
    )
    op.create_table('artefact',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.Enum('photo', 'drawing', 'voice_note', 'video_diary', 'text_story', name='artefactkind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('story', sa.Text(), nullable=False),
    sa.Column('place', sa.String(length=32), nullable=True),
    sa.Column('status', sa.Enum('received', 'processing', 'ready', 'failed', 'withdrawn', name='artefactstatus', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('failure_reason', sa.String(length=500), nullable=True),
    sa.Column('upload_id', sa.String(length=64), nullable=True),
    sa.Column('master_key', sa.String(length=300), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('size_bytes', sa.Integer(), nullable=True),
    sa.Column('media_type', sa.String(length=100), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('reviewed_at', sa.DateTime(), nullable=True),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('withdrawn_at', sa.DateTime(), nullable=True),
    sa.Column('erased_at', sa.DateTime(), nullable=True),
    sa.Column('consent_level', sa.Integer(), nullable=False),
    sa.Column('consent_credit', sa.Boolean(), nullable=False),
    sa.Column('consent_face', sa.Boolean(), nullable=False),
    sa.Column('consent_voice', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['participant_id'], ['participant.id'], name=op.f('fk_artefact_participant_id_participant')),
    sa.ForeignKeyConstraint(['programme_id'], ['programme.id'], name=op.f('fk_artefact_programme_id_programme')),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['user_account.id'], name=op.f('fk_artefact_reviewed_by_id_user_account')),
    sa.ForeignKeyConstraint(['session_id'], ['listening_session.id'], name=op.f('fk_artefact_session_id_listening_session')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_artefact')),
    sa.UniqueConstraint('participant_id', 'upload_id', name=op.f('uq_artefact_participant_id'))
    )
    with op.batch_alter_table('artefact', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_artefact_consent_level'), ['consent_level'], unique=False)
        batch_op.create_index(batch_op.f('ix_artefact_participant_id'), ['participant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_artefact_programme_id'), ['programme_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_artefact_session_id'), ['session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_artefact_status'), ['status'], unique=False)

    op.create_table('consent_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Uuid(), nullable=False),
    sa.Column('artefact_id', sa.Uuid(), nullable=True),
    sa.Column('scope', sa.Enum('participant', 'artefact', name='consentscope', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('credit', sa.Boolean(), nullable=False),
    sa.Column('face', sa.Boolean(), nullable=False),
    sa.Column('voice', sa.Boolean(), nullable=False),
    sa.Column('giver', sa.Enum('participant', 'parent_carer', name='consentgiver', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('method', sa.Enum('in_app', 'paper', 'verbal_witnessed', name='consentmethod', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('witness', sa.String(length=200), nullable=True),
    sa.Column('child_assent', sa.Boolean(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['artefact_id'], ['artefact.id'], name=op.f('fk_consent_record_artefact_id_artefact')),
    sa.ForeignKeyConstraint(['participant_id'], ['participant.id'], name=op.f('fk_consent_record_participant_id_participant')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user_account.id'], name=op.f('fk_consent_record_recorded_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_record')),
    sa.UniqueConstraint('participant_id', 'artefact_id', 'version', name=op.f('uq_consent_record_participant_id'))
    )
    with op.batch_alter_table('consent_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consent_record_artefact_id'), ['artefact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_consent_record_participant_id'), ['participant_id'], unique=False)
        batch_op.create_index('uq_consent_record_default_version', ['participant_id', 'version'], unique=True, sqlite_where=sa.text('artefact_id IS NULL'), postgresql_where=sa.text('artefact_id IS NULL'))

    op.create_table('derivative',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('artefact_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('object_key', sa.String(length=300), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('media_type', sa.String(length=100), nullable=False),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['artefact_id'], ['artefact.id'], name=op.f('fk_derivative_artefact_id_artefact'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_derivative')),
    sa.UniqueConstraint('artefact_id', 'kind', name=op.f('uq_derivative_artefact_id'))
    )
    op.create_table('exhibit_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('exhibit_id', sa.Integer(), nullable=False),
    sa.Column('section_id', sa.Integer(), nullable=True),
    sa.Column('artefact_id', sa.Uuid(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('alt_text', sa.Text(), nullable=False),
    sa.Column('caption', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['artefact_id'], ['artefact.id'], name=op.f('fk_exhibit_item_artefact_id_artefact'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['exhibit_id'], ['exhibit.id'], name=op.f('fk_exhibit_item_exhibit_id_exhibit'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['section_id'], ['exhibit_section.id'], name=op.f('fk_exhibit_item_section_id_exhibit_section'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exhibit_item'))
    )
    with op.batch_alter_table('exhibit_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exhibit_item_artefact_id'), ['artefact_id'], unique=False)

    op.create_table('transcript',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('artefact_id', sa.Uuid(), nullable=False),
    sa.Column('language', sa.String(length=16), nullable=True),
    sa.Column('duration', sa.Float(), nullable=True),
    sa.Column('model_name', sa.String(length=64), nullable=False),
    sa.Column('no_speech', sa.Boolean(), nullable=False),
    sa.Column('edited', sa.Boolean(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'ready_for_check', 'approved', name='transcriptstatus', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['artefact_id'], ['artefact.id'], name=op.f('fk_transcript_artefact_id_artefact'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transcript')),
    sa.UniqueConstraint('artefact_id', name=op.f('uq_transcript_artefact_id'))
    )
    op.create_table('transcript_segment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('transcript_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('start', sa.Float(), nullable=False),
    sa.Column('end', sa.Float(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('confidence', sa.Float(), nullable=True),
    sa.Column('words', sa.JSON(), nullable=True),
    sa.Column('speaker', sa.String(length=32), nullable=True),
    sa.Column('locked', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['transcript_id'], ['transcript.id'], name=op.f('fk_transcript_segment_transcript_id_transcript'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transcript_segment')),
    sa.UniqueConstraint('transcript_id', 'position', name=op.f('uq_transcript_segment_transcript_id'))
    )
    op.create_table('theme_tag',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('artefact_id', sa.Uuid(), nullable=False),
    sa.Column('framework', sa.String(length=64), nullable=False),
    sa.Column('theme', sa.String(length=64), nullable=False),
    sa.Column('source', sa.Enum('model', 'participant', 'facilitator', name='tagsource', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('confidence', sa.Float(), nullable=True),
    sa.Column('evidence', sa.Text(), nullable=True),
    sa.Column('evidence_start', sa.Integer(), nullable=True),
    sa.Column('evidence_end', sa.Integer(), nullable=True),
    sa.Column('segment_id', sa.Integer(), nullable=True),
    sa.Column('polarity', sa.Enum('barrier', 'asset', 'neutral', name='polarity', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('status', sa.Enum('suggested', 'accepted', 'rejected', name='tagstatus', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['artefact_id'], ['artefact.id'], name=op.f('fk_theme_tag_artefact_id_artefact'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_theme_tag_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['segment_id'], ['transcript_segment.id'], name=op.f('fk_theme_tag_segment_id_transcript_segment'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_theme_tag'))
    )
    with op.batch_alter_table('theme_tag', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_theme_tag_artefact_id'), ['artefact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_theme_tag_theme'), ['theme'], unique=False)

    


def downgrade() -> None:
    
    with op.batch_alter_table('theme_tag', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_theme_tag_theme'))
        batch_op.drop_index(batch_op.f('ix_theme_tag_artefact_id'))

    op.drop_table('theme_tag')
    op.drop_table('transcript_segment')
    op.drop_table('transcript')
    with op.batch_alter_table('exhibit_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exhibit_item_artefact_id'))

    op.drop_table('exhibit_item')
    op.drop_table('derivative')
    with op.batch_alter_table('consent_record', schema=None) as batch_op:
        batch_op.drop_index('uq_consent_record_default_version', sqlite_where=sa.text('artefact_id IS NULL'), postgresql_where=sa.text('artefact_id IS NULL'))
        batch_op.drop_index(batch_op.f('ix_consent_record_participant_id'))
        batch_op.drop_index(batch_op.f('ix_consent_record_artefact_id'))

    op.drop_table('consent_record')
    with op.batch_alter_table('artefact', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_artefact_status'))
        batch_op.drop_index(batch_op.f('ix_artefact_session_id'))
        batch_op.drop_index(batch_op.f('ix_artefact_programme_id'))
        batch_op.drop_index(batch_op.f('ix_artefact_participant_id'))
        batch_op.drop_index(batch_op.f('ix_artefact_consent_level'))

    op.drop_table('artefact')
    op.drop_table('participant')
    op.drop_table('exhibit_section')
    op.drop_table('membership')
    op.drop_table('listening_session')
    op.drop_table('exhibit')
    op.drop_table('custom_theme')
    op.drop_table('user_account')
    op.drop_table('programme')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_event_object_id'))
        batch_op.drop_index(batch_op.f('ix_audit_event_action'))

    op.drop_table('audit_event')
    
