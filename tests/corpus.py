"""A tiny labelled corpus, written for the tests: short postings whose signals are plain."""

from __future__ import annotations

import random

TECHNICAL = [
    "You will own the public REST APIs and SDKs and write technical specifications with the engineers.",
    "Work side by side with backend engineers, QA and SRE to improve latency, reliability and scalability.",
    "Weigh technical debt against new work and estimate effort with the tech lead before each sprint.",
    "Research emerging technologies and judge technical feasibility, build vs buy, for the data pipeline.",
    "A degree in computer science and hands-on SQL and Python are required; prior work as a software engineer is a plus.",
    "Define the architecture of integrations, webhooks and authentication with architects and developers.",
    "Own the technical roadmap for the platform's infrastructure, observability and data pipelines.",
    "Partner with data scientists on the ML model's inference performance and monitoring.",
]
BUSINESS = [
    "You will own pricing, packaging and positioning, and build the business case for each bet.",
    "Work with marketing, sales, customer success, finance and legal to grow adoption and revenue.",
    "Prioritise by revenue impact, market opportunity and customer value, and own the P&L.",
    "Study the competitive landscape, run market research and customer interviews, and lead go-to-market.",
    "An MBA or business degree and a background in consulting or marketing are expected.",
    "Map customer journeys and customer needs across segments and improve retention and conversion.",
    "Present business outcomes to executives and negotiate with external partners and resellers.",
    "Size the market, run surveys and focus groups, and write the launch plan with product marketing.",
]
SHARED = [
    "Own the product roadmap and write user stories for the backlog.",
    "Steer releases with cross-functional teams and keep stakeholders informed.",
    "Set the product vision and strategy with your manager.",
    "Gather ideas from across the company and turn them into requirements.",
]
NOT_PM = [
    ("Senior Software Engineer", "Write production code in Go and Java, review pull requests, and be on call for the services you build. Five years of coding experience."),
    ("Account Executive", "Close new business with mid-market customers, build pipeline through outbound prospecting, and exceed a quarterly quota."),
    ("Technical Program Manager", "Run the release train across twelve engineering teams, track cross-team dependencies and milestones, and report program status and risks."),
    ("Product Marketing Manager", "Write launch messaging, sales enablement decks and campaign briefs; own the analyst briefings and the website copy for launches."),
    ("Customer Success Manager", "Own renewals for a book of enterprise accounts, run quarterly business reviews, and reduce churn through onboarding programs."),
    ("UX Designer", "Design flows and high-fidelity mockups in Figma, run usability tests, and maintain the design system components."),
    ("Data Scientist", "Build forecasting models in Python, design experiments, and present statistical findings to analysts."),
    ("Elementary School Teacher", "Plan lessons for a third-grade classroom, assess student progress, and communicate with parents each term."),
]


def _posting(rng: random.Random, side: list[str], n: int) -> str:
    lines = rng.sample(side, n) + rng.sample(SHARED, 2)
    rng.shuffle(lines)
    return "About the role\n" + "\n".join(f"- {line}" for line in lines)


def rows(n_each: int = 10, seed: int = 7) -> list[dict]:
    """``n_each`` technical and business postings and every not-PM posting."""
    rng = random.Random(seed)
    out = []
    for i in range(n_each):
        out.append({"id": f"t{i}", "title": "Product Manager", "company": "Acme",
                    "description": _posting(rng, TECHNICAL, 4), "label": "technical"})
        out.append({"id": f"b{i}", "title": "Product Manager", "company": "Acme",
                    "description": _posting(rng, BUSINESS, 4), "label": "business"})
    for i, (title, text) in enumerate(NOT_PM * 2):
        out.append({"id": f"n{i}", "title": title, "company": "Acme",
                    "description": text + (" " + rng.choice(NOT_PM)[1] if i >= len(NOT_PM) else ""),
                    "label": "not_pm"})
    return out


# The same kind of postings in German (written for the tests), for models trained on another language.
GERMAN_TECHNICAL = [
    "Du verantwortest unsere öffentlichen Schnittstellen und schreibst technische Spezifikationen mit den Entwicklern.",
    "Gemeinsam mit dem Backend-Team und der Qualitätssicherung verbesserst du Latenz, Zuverlässigkeit und Skalierbarkeit.",
    "Du schätzt den Aufwand mit der technischen Leitung und wägst technische Schulden gegen neue Funktionen ab.",
    "Ein Studium der Informatik und praktische Erfahrung mit Datenbanken setzen wir voraus.",
    "Du planst die Architektur der Integrationen gemeinsam mit den Architekten und Entwicklern.",
    "Du verantwortest die technische Roadmap für die Infrastruktur und die Datenpipelines der Plattform.",
]
GERMAN_BUSINESS = [
    "Du verantwortest Preisgestaltung, Pakete und Positionierung und schreibst den Geschäftsplan für jede Wette.",
    "Mit Marketing, Vertrieb, Kundenerfolg, Finanzen und Recht steigerst du Nutzung und Umsatz.",
    "Du priorisierst nach Umsatzwirkung, Marktchance und Kundennutzen und verantwortest die Gewinnrechnung.",
    "Du untersuchst den Wettbewerb, führst Marktforschung und Kundeninterviews durch und leitest die Markteinführung.",
    "Ein betriebswirtschaftliches Studium und Erfahrung in Beratung oder Marketing erwarten wir.",
    "Du präsentierst der Geschäftsführung die Ergebnisse und verhandelst mit externen Partnern.",
]
GERMAN_SHARED = [
    "Du pflegst die Produkt-Roadmap und schreibst User Stories für das Backlog.",
    "Du begleitest jedes Release gemeinsam mit den anderen Teams und hältst alle Beteiligten auf dem Laufenden.",
    "Du entwickelst die Produktvision gemeinsam mit deiner Führungskraft.",
]


def german_rows(n_each: int = 5, seed: int = 11) -> list[dict]:
    """``n_each`` technical and business postings in German."""
    rng = random.Random(seed)
    out = []
    for i in range(n_each):
        for label, side in (("technical", GERMAN_TECHNICAL), ("business", GERMAN_BUSINESS)):
            lines = rng.sample(side, 4) + rng.sample(GERMAN_SHARED, 2)
            rng.shuffle(lines)
            out.append({"id": f"g{label[0]}{i}", "title": "Produktmanager (m/w/d)", "company": "Acme",
                        "description": "Deine Aufgaben\n" + "\n".join(f"- {line}" for line in lines),
                        "label": label})
    return out
