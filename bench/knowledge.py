"""Knowledge-base benchmark: vector search at 10,000 and 100,000 chunks in one brokerage, recall of
the HNSW index against exact search, and the offline embedder's throughput.

Run by `make bench` (alone: .venv/bin/python -m crm.devstack exec --redis bench -- .venv/bin/python
bench/knowledge.py). It works in its own database (`crm_bench_kb`, dropped and re-created at start), never in the
development database named by DATABASE_URL. It prints numbers and asserts nothing. About 3-6
minutes on a 2-core machine.

1. Offline embeddings: sentences per second for single texts and for batches of 32 (the batch the
   embedding task uses), on Spanish sentences, and the latency of one query (what a turn pays).
2. Corpus: 10,000 then 100,000 chunks. Embedding 100,000 texts offline would take longer than the
   whole run, so only `BASE_TEXTS` real sentences are embedded; each chunk vector is a random
   mixture of two of them plus noise, renormalised. That keeps the clustered shape of real text
   embeddings (pure random vectors are the worst case for HNSW and unlike any real corpus).
   Rows go in with binary COPY; the HNSW index (the migration's: m=16, ef_construction=64, cosine)
   is rebuilt after each load, and its build time is printed.
3. Search: `knowledge.selectors.kb_search` itself (ORM, SET LOCAL hnsw.ef_search, the model
   filter), with query vectors made the same way from held-out sentences; the embedding of the
   query is left out here (it is in part 1). p50/p95 per size, also with a source_type filter.
4. Recall@5 of the index against exact search (the same query with index scans disabled) on the
   same queries, at several hnsw.ef_search values.
"""

import os
import random
import statistics
import time

from common import isolated_django, load_average, percentile

BENCH_DATABASE = "crm_bench_kb"
SIZES = (10_000, 100_000)
DOCUMENTS = 2_000
BASE_TEXTS = 1_500
QUERIES = 200
WARMUP = 20
EF_SEARCH_VALUES = (40, 64, 100)
SEED = 20261128
TARGET_P95_MS = 20.0
TARGET_RECALL = 0.95

COMUNAS = ["Ñuñoa", "Providencia", "Las Condes", "Maipú", "La Florida", "Santiago", "Puente Alto", "Vitacura",
           "San Miguel", "Macul", "Viña del Mar", "Concepción", "Temuco", "La Reina", "Peñalolén"]
TOPICS = [
    "el pie mínimo es del {n}% y se paga en {m} cuotas",
    "los gastos comunes del edificio en {c} son de {n} mil pesos al mes",
    "el proyecto en {c} entrega departamentos de {d} dormitorios en {y}",
    "el subsidio DS1 tramo {d} permite comprar hasta {n} UF en {c}",
    "la sala de ventas de {c} abre de {h} a {h2} horas",
    "se aceptan mascotas pequeñas en la torre {d} de {c}",
    "el estacionamiento cuesta {n} UF y la bodega {m} UF en {c}",
    "la reserva es de {m} UF y se devuelve si el banco rechaza el crédito",
    "la casa en {c} tiene {d} dormitorios, {m} baños y {n} metros cuadrados",
    "para promesar se piden {m} liquidaciones de sueldo y el certificado de AFP",
    "el crédito hipotecario financia hasta el {n}% a {y2} años",
    "la garantía de postventa cubre {m} años las terminaciones del proyecto en {c}",
]


def sentence(rng: random.Random) -> str:
    return rng.choice(TOPICS).format(
        n=rng.randint(5, 95), m=rng.randint(1, 12), c=rng.choice(COMUNAS), d=rng.randint(1, 4),
        y=rng.choice([2026, 2027, 2028]), h=rng.randint(8, 11), h2=rng.randint(17, 20), y2=rng.choice([20, 25, 30]),
    ).capitalize() + "."


# --- database ---------------------------------------------------------------------------

# The tests' key, unless the environment names one: the bench stores nothing worth protecting.
BENCH_ENV = {"FIELD_ENCRYPTION_KEYS": "Zm9yLXRlc3RzLW9ubHktMzItYnl0ZXMta2V5LXh4eHg="}


def create_brokerage():
    from brokers import services

    return services.broker_register(name="Corredora Bench", slug="bench", admin_email="admin@bench.cl",
                                    admin_name="Admin", password="clave-segura-2026", validate=False)


# --- parts ---------------------------------------------------------------------------------


def bench_embeddings(rng: random.Random):
    """Embed the base and query sentences with the offline model, timing it; return the vectors."""
    import numpy as np

    from knowledge.embeddings import OfflineEmbedder

    embedder = OfflineEmbedder()
    started = time.perf_counter()
    embedder.embed(["carga del modelo"])
    print(f"  model load (first call): {time.perf_counter() - started:.1f} s")
    texts = list(dict.fromkeys(sentence(rng) for _ in range(BASE_TEXTS * 2)))[:BASE_TEXTS + QUERIES]
    single = texts[:100]
    started = time.perf_counter()
    single_ms = []
    for text in single:
        t0 = time.perf_counter()
        embedder.embed([text])
        single_ms.append((time.perf_counter() - t0) * 1000)
    single_rate = len(single) / (time.perf_counter() - started)
    started = time.perf_counter()
    vectors = []
    for start in range(0, len(texts), 32):
        vectors += embedder.embed(texts[start:start + 32])
    batch_rate = len(texts) / (time.perf_counter() - started)
    print(f"  one text at a time: {single_rate:.0f} sentences/s "
          f"(query latency p50 {percentile(single_ms, 50):.1f} ms, p95 {percentile(single_ms, 95):.1f} ms)")
    print(f"  batches of 32:      {batch_rate:.0f} sentences/s ({len(texts)} sentences)")
    array = np.asarray(vectors, dtype=np.float32)
    return array[:BASE_TEXTS], array[BASE_TEXTS:]


def mixtures(base, count: int, rng):
    """`count` unit vectors, each 0.6-0.9 of one base vector, the rest another, plus small noise."""
    import numpy as np

    first = rng.integers(0, len(base), count)
    second = rng.integers(0, len(base), count)
    weight = rng.uniform(0.6, 0.9, (count, 1)).astype(np.float32)
    vectors = weight * base[first] + (1 - weight) * base[second]
    vectors += rng.normal(0, 0.02, vectors.shape).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def load_chunks(*, start: int, vectors, model_id: str, document_ids: list[int]) -> float:
    """COPY the chunks in (binary) with the index dropped; return seconds."""
    from django.db import connection
    from pgvector.psycopg import register_vector

    started = time.perf_counter()
    connection.ensure_connection()
    register_vector(connection.connection)  # before the cursor: a cursor copies the adapters it starts with
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX IF EXISTS chunk_embedding_hnsw")  # one build afterwards beats 10^5 inserts
        with cursor.cursor.copy("COPY knowledge_chunk (document_id, ordinal, text, embedding, model) "
                                "FROM STDIN WITH (FORMAT BINARY)") as copy:
            copy.set_types(["int8", "int4", "text", "vector", "varchar"])
            for offset, vector in enumerate(vectors):
                number = start + offset
                copy.write_row((document_ids[number % len(document_ids)], number, f"fragmento {number}", vector,
                                model_id))
    return time.perf_counter() - started


def build_index() -> float:
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '1GB'")
        cursor.execute("SET max_parallel_maintenance_workers = 2")
        cursor.execute("CREATE INDEX chunk_embedding_hnsw ON knowledge_chunk "
                       "USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64)")
        cursor.execute("RESET maintenance_work_mem")
        cursor.execute("ANALYZE knowledge_chunk")
    return time.perf_counter() - started


def bench_search(query_vectors) -> None:
    """p50/p95 of kb_search (no embedding), plain and filtered by source_type."""
    from knowledge import selectors

    by_text = {f"q{i}": vector.tolist() for i, vector in enumerate(query_vectors)}
    selectors.embed_query = by_text.__getitem__  # the query's vector is given: part 1 times embedding
    for label, kwargs in (("top 5", {}), ("top 5, source_type=faq", {"source_type": "faq"})):
        timings = []
        for number, text in enumerate(list(by_text) * 2):
            started = time.perf_counter()
            hits = selectors.kb_search(query=text, top_k=5, **kwargs)
            if number >= WARMUP:
                timings.append((time.perf_counter() - started) * 1000)
        print(f"    kb_search {label:<24} p50 {percentile(timings, 50):6.2f} ms   "
              f"p95 {percentile(timings, 95):6.2f} ms   ({len(hits)} hits last)")


def top_ids(vector, *, exact: bool, ef_search: int, model_id: str) -> list[int]:
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL hnsw.ef_search = %s", [ef_search])
        if exact:
            cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute("SELECT id FROM knowledge_chunk WHERE model = %s ORDER BY embedding <=> %s::vector LIMIT 5",
                       [model_id, "[" + ",".join(f"{x:.7f}" for x in vector) + "]"])
        return [row[0] for row in cursor.fetchall()]


def bench_recall(query_vectors, model_id: str) -> None:
    truth = [top_ids(v, exact=True, ef_search=40, model_id=model_id) for v in query_vectors]
    for ef in EF_SEARCH_VALUES:
        found = [top_ids(v, exact=False, ef_search=ef, model_id=model_id) for v in query_vectors]
        recall = statistics.mean(len(set(f) & set(t)) / len(t) for f, t in zip(found, truth, strict=True))
        print(f"    recall@5 HNSW vs exact, hnsw.ef_search={ef:<4} {recall:.3f}")


def main() -> None:
    import numpy as np

    started = time.perf_counter()
    load_before = load_average()
    print(f"Knowledge-base benchmark — {os.cpu_count()} CPUs, load average {load_before}")
    isolated_django(BENCH_DATABASE, env=BENCH_ENV)
    broker = create_brokerage()
    from django.conf import settings

    from knowledge.embeddings import OfflineEmbedder
    from knowledge.models import Document

    rng_text = random.Random(SEED)
    rng = np.random.default_rng(SEED)
    print("\n1. Offline embeddings (USE multilingual v3, numpy)")
    base, held_out = bench_embeddings(rng_text)
    model_id = OfflineEmbedder.model_id
    query_vectors = mixtures(held_out, QUERIES, rng)  # held-out sentences: no query is a stored chunk
    loaded = 0
    with broker:
        kinds = ["faq", "policy", "subsidy", "project", "property", "custom"]
        Document.objects.bulk_create(
            Document(title=f"Documento {n}", body="(bench)", source_type=kinds[n % len(kinds)], status="ready",
                     progress=100, embedding_model=model_id) for n in range(DOCUMENTS))
        document_ids = list(Document.objects.order_by("id").values_list("id", flat=True))
        for size in SIZES:
            print(f"\n2-4. {size:,} chunks (hnsw.ef_search in kb_search: {settings.KNOWLEDGE_HNSW_EF_SEARCH})")
            copy_s = load_chunks(start=loaded, vectors=mixtures(base, size - loaded, rng), model_id=model_id,
                                 document_ids=document_ids)
            loaded = size
            print(f"    COPY {copy_s:.1f} s; HNSW build {build_index():.1f} s")
            bench_search(query_vectors)
            bench_recall(query_vectors[:100], model_id)
    print(f"\nTargets: p95 < {TARGET_P95_MS:.0f} ms at 100,000 chunks, recall@5 >= {TARGET_RECALL}.")
    print(f"Done in {time.perf_counter() - started:.0f} s; load average {load_before} -> {load_average()}")


if __name__ == "__main__":
    main()
