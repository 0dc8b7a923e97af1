"""Bulk verification jobs (CONTRACT 10): Celery on a Redis broker.

The web process (``verifier.web.jobs_api``) parses an upload exactly as
``POST /api/v1/verify`` does, puts the files into Redis (:mod:`verifier.jobs.store`)
and sends one Celery task per file; ``hocba worker`` processes
(:mod:`verifier.jobs.tasks`) on any number of hosts verify them with one
:class:`verifier.core.Verifier` per process and write each report once, by
``(job, index)``. Nothing touches a local disk; everything of a job expires from
Redis after ``[jobs] result_ttl_hours`` or goes at ``DELETE``. See docs/deploy.md.
"""
