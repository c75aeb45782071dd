"""An autan collection as the retriever of a plain LangChain chain (runs offline).

Ingests two notes with autan, then answers through LCEL: retriever -> prompt -> chat model.
The chat model here is autan's scripted model so the example needs no weights; swap in any
LangChain chat model (or ``autan.agents.models.spec.load_model("local:...")``).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from langchain_core.documents import Document
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnablePassthrough

from autan.agents.models.scripted import ScriptedChatModel
from autan.memory.embeddings import HashingEmbedder
from autan.memory.ingest.pipeline import Ingestor
from autan.memory.lc_adapters import AutanEmbeddings, AutanVectorStore
from autan.memory.store_edge import EdgeStore


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        docs = Path(tmp) / "notes"
        docs.mkdir()
        (docs / "tides.md").write_text("# Tides\n\nTides follow the moon.\n", encoding="utf-8")
        (docs / "bread.md").write_text("# Bread\n\nBread needs flour and yeast.\n", "utf-8")
        store = EdgeStore(Path(tmp) / "vectors")
        Ingestor(store, HashingEmbedder(), collection="notes").run([docs])

        retriever = AutanVectorStore(
            AutanEmbeddings("hashing"), collection="notes", store=store
        ).as_retriever(search_kwargs={"k": 1})

        def context(found: list[Document]) -> str:
            return "\n".join(f"[{d.metadata['source']}] {d.page_content}" for d in found)

        prompt = ChatPromptTemplate.from_messages(
            [("system", "Answer from this context:\n{context}"), ("human", "{question}")]
        )
        model = ScriptedChatModel.from_turns([{"text": "Tides follow the moon."}])
        chain = (
            {"context": retriever | context, "question": RunnablePassthrough()}
            | prompt
            | model
            | StrOutputParser()
        )
        question = "What do tides follow?"
        print("retrieved:", context(retriever.invoke(question)))
        print("answer:", chain.invoke(question))
        store.close()


if __name__ == "__main__":
    main()
