"""Files about an application from those who review it: the office, the recommending unit and
declared experts — never an expert who has not declared, nor an outsider."""

from __future__ import annotations

import io

import pytest

from haopin.core.errors import NotFoundError, PermissionDeniedError, ValidationFailed
from haopin.core.models import AuditEvent
from haopin.evaluation import services
from haopin.evaluation.models import Assignment
from haopin.evaluation.tests.test_applications import assign_expert, batch, frozen_clock, rule_sets  # noqa: F401
from haopin.registry.models import Document

PDF = b"%PDF-1.4\n%\xe2\xe3\n1 0 obj\n<<>>\nendobj\n%%EOF"


@pytest.fixture
def alice_app(province, batch):  # noqa: F811
    return services.application_start(actor=province.alice, batch=batch, brand=province.alice_brand)


def store(user, application, content=PDF):
    return services.application_document_store(
        actor=user, application=application, upload=io.BytesIO(content), name="证明.pdf", title="抽检报告"
    )


def test_a_declared_expert_stores_evidence_for_the_applicant_enterprise(province, alice_app):
    assign_expert(alice_app, province.expert, Assignment.Status.ACCEPTED)
    document = store(province.expert, alice_app)
    assert document.enterprise == province.alice_ent and document.purpose == Document.Purpose.EVIDENCE
    assert document.uploaded_by == province.expert and len(document.sha256) == 64
    assert AuditEvent.objects.filter(action="registry.document.uploaded", target_id=str(document.pk)).exists()


def test_the_office_and_the_recommender_store_decision_documents(province, alice_app):
    assert store(province.office, alice_app).enterprise == province.alice_ent
    assert store(province.city_jinan, alice_app).enterprise == province.alice_ent


def test_an_expert_before_declaring_and_outsiders_are_refused(province, alice_app):
    assign_expert(alice_app, province.expert, Assignment.Status.INVITED)
    with pytest.raises(NotFoundError):
        store(province.expert, alice_app)
    with pytest.raises(NotFoundError):
        store(province.bob, alice_app)
    with pytest.raises(PermissionDeniedError):
        store(province.office_viewer, alice_app)
    assert not Document.objects.filter(purpose=Document.Purpose.EVIDENCE).exists()


def test_the_content_decides_the_type(province, alice_app):
    assign_expert(alice_app, province.expert, Assignment.Status.ACCEPTED)
    with pytest.raises(ValidationFailed, match="文件类型不符"):
        store(province.expert, alice_app, content=b"MZ\x90\x00 an executable named .pdf")
    assert not Document.objects.filter(purpose=Document.Purpose.EVIDENCE).exists()
