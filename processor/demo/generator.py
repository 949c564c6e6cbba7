"""A realistic demo tenant ("contoso") as CloudEvents input events (CONTRACT §1–§2), in log order.

About 3,000 employees in 13 departments and 7 countries, 31 groups and 9 subscriptions. One month is simulated: the
initial HR and admin load, then three weeks of daily work (new hires, leavers, transfers, helpdesk tickets, a product
swap, a Teams Phone rollout, a seat purchase). The admins make the mistakes that real tenants contain, so that a
faithful engine (SPEC §2.5; check order location → uniqueness → exclusivity → dependency → seats) ends with every
error code several times, each for a reason an administrator would recognise:

* CountViolation – "Project Managers" has more members than PROJECTPROFESSIONAL seats (a later purchase and group
  reprocess heal only some); "IT & Executives - E3 + EMS E5" has more members than EMSPREMIUM seats.
* Other – the E3 of that two-product group for the members whose EMSPREMIUM failed (all-or-nothing bundle).
* MutuallyExclusiveViolation – Fabrikam acquisition hires hold E1 directly, then HR adds them to "All Staff E3".
* DependencyViolation – leavers with a direct Audio Conferencing add-on whose Skype plan came from "All Staff E3";
  their removal from the group is blocked (ActiveWithError).
* ProhibitedInUsageLocationViolation – offshore staff (IN/BR/JP) in the Calling Plan groups, and a US agent who
  relocates to India and is then reprocessed.
* UniquenessViolation – new hires that got the shared alias sales@ or support@ before joining "All Staff E3".

Only `random.Random(seed)` drives the choices and no set of strings is ever iterated, so the output is byte-identical
for the same arguments.
"""

from __future__ import annotations

import json
import random
import sys
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HR, ADMIN, BILLING = "/hr-sync", "/admin-portal", "/billing"
START = datetime(2026, 1, 5, 8, 0, 0, tzinfo=UTC)  # a Monday: day 0 is the initial load
MIN_USERS = 200  # below this, departments are too small to cast every scenario
WORKING_DAYS = 15  # daily life after the initial load

E1, E3, EMS, EMS5 = "STANDARDPACK", "ENTERPRISEPACK", "EMS", "EMSPREMIUM"
AUDIO, PROJECT, CALLING, POWER_BI, ARCHIVING = (
    "MCOMEETADV",
    "PROJECTPROFESSIONAL",
    "MCOPSTN1",
    "POWER_BI_PRO",
    "EXCHANGEARCHIVE_ADDON",
)
# The 2019 plan list of ENTERPRISEPACK (catalog.json): an add-on group bundles an E3 that enables only the add-on's
# prerequisite, because a group may not carry an add-on without it (SPEC §2.3, groupPrereqPolicy = reject).
E3_PLANS = (
    "BPOS_S_TODO_2",
    "Deskless",
    "EXCHANGE_S_ENTERPRISE",
    "FLOW_O365_P2",
    "FORMS_PLAN_E3",
    "MCOSTANDARD",
    "OFFICESUBSCRIPTION",
    "POWERAPPS_O365_P2",
    "PROJECTWORKMANAGEMENT",
    "RMS_S_ENTERPRISE",
    "SHAREPOINTENTERPRISE",
    "SHAREPOINTWAC",
    "STREAM_O365_E3",
    "SWAY",
    "TEAMS1",
    "YAMMER_ENTERPRISE",
)
STAFF_E3_DISABLED = ["SWAY", "YAMMER_ENTERPRISE"]  # the company standard: no Sway, Yammer not rolled out
SKYPE_ONLY_E3_DISABLED = [plan for plan in E3_PLANS if plan != "MCOSTANDARD"]
EXCHANGE_ONLY_E3_DISABLED = [plan for plan in E3_PLANS if plan != "EXCHANGE_S_ENTERPRISE"]
PROJECT_SHORTFALL, PROJECT_PURCHASE = 8, 3  # members without a seat; seats bought later (5 stay in error)
EMS5_SHORTFALL = 5
OFFSHORE = ("IN", "BR", "JP")  # outside the demo's MCOPSTN1 countries US, CA, GB, IE, FR, DE, NL, ES (SPEC §3.3)

NAMES: dict[str, tuple[list[str], list[str]]] = {  # given names, surnames; ASCII so that they fit in a UPN
    "anglo": (
        [
            "James",
            "Mary",
            "John",
            "Patricia",
            "Robert",
            "Jennifer",
            "Michael",
            "Linda",
            "William",
            "Elizabeth",
            "David",
            "Barbara",
            "Richard",
            "Susan",
            "Joseph",
            "Jessica",
            "Thomas",
            "Sarah",
            "Charles",
            "Karen",
            "Christopher",
            "Nancy",
            "Daniel",
            "Lisa",
            "Matthew",
            "Betty",
            "Anthony",
            "Margaret",
            "Mark",
            "Sandra",
            "Donald",
            "Ashley",
            "Steven",
            "Kimberly",
            "Paul",
            "Emily",
            "Andrew",
            "Donna",
            "Joshua",
            "Michelle",
            "Kenneth",
            "Carol",
            "Kevin",
            "Amanda",
            "Brian",
            "Melissa",
            "George",
            "Deborah",
            "Timothy",
            "Stephanie",
            "Ronald",
            "Rebecca",
            "Jason",
            "Sharon",
            "Edward",
            "Laura",
            "Jeffrey",
            "Cynthia",
            "Ryan",
            "Kathleen",
            "Jacob",
            "Amy",
            "Gary",
            "Angela",
            "Nicholas",
            "Shirley",
            "Eric",
            "Anna",
            "Jonathan",
            "Brenda",
            "Stephen",
            "Pamela",
            "Larry",
            "Emma",
            "Justin",
            "Nicole",
            "Scott",
            "Helen",
            "Brandon",
            "Samantha",
            "Benjamin",
            "Katherine",
            "Samuel",
            "Christine",
            "Gregory",
            "Debra",
            "Alexander",
            "Rachel",
            "Patrick",
            "Carolyn",
            "Frank",
            "Janet",
            "Raymond",
            "Maria",
            "Jack",
            "Olivia",
            "Dennis",
            "Heather",
            "Jerry",
            "Alice",
            "Oliver",
            "Grace",
        ],
        [
            "Smith",
            "Johnson",
            "Williams",
            "Brown",
            "Jones",
            "Garcia",
            "Miller",
            "Davis",
            "Rodriguez",
            "Martinez",
            "Hernandez",
            "Lopez",
            "Gonzalez",
            "Wilson",
            "Anderson",
            "Thomas",
            "Taylor",
            "Moore",
            "Jackson",
            "Martin",
            "Lee",
            "Perez",
            "Thompson",
            "White",
            "Harris",
            "Sanchez",
            "Clark",
            "Ramirez",
            "Lewis",
            "Robinson",
            "Walker",
            "Young",
            "Allen",
            "King",
            "Wright",
            "Scott",
            "Torres",
            "Nguyen",
            "Hill",
            "Flores",
            "Green",
            "Adams",
            "Nelson",
            "Baker",
            "Hall",
            "Rivera",
            "Campbell",
            "Mitchell",
            "Carter",
            "Roberts",
            "Gomez",
            "Phillips",
            "Evans",
            "Turner",
            "Diaz",
            "Parker",
            "Cruz",
            "Edwards",
            "Collins",
            "Reyes",
            "Stewart",
            "Morris",
            "Morales",
            "Murphy",
            "Cook",
            "Rogers",
            "Gutierrez",
            "Ortiz",
            "Morgan",
            "Cooper",
            "Peterson",
            "Bailey",
            "Reed",
            "Kelly",
            "Howard",
            "Ramos",
            "Kim",
            "Cox",
            "Ward",
            "Richardson",
            "Watson",
            "Brooks",
            "Chavez",
            "Wood",
            "James",
            "Bennett",
            "Gray",
            "Mendoza",
            "Ruiz",
            "Hughes",
            "Price",
            "Alvarez",
            "Castillo",
            "Sanders",
            "Patel",
            "Myers",
            "Long",
            "Ross",
            "Foster",
            "Jimenez",
            "Powell",
            "Jenkins",
            "Perry",
            "Russell",
            "Sullivan",
            "Bell",
            "Coleman",
            "Butler",
            "Henderson",
            "Barnes",
            "Fisher",
            "Vasquez",
            "Simmons",
            "Romero",
            "Jordan",
            "Patterson",
            "Hamilton",
            "Graham",
            "Wallace",
            "Hayes",
        ],
    ),
    "DE": (
        [
            "Lukas",
            "Leon",
            "Finn",
            "Jonas",
            "Paul",
            "Felix",
            "Maximilian",
            "Elias",
            "Noah",
            "Ben",
            "Anna",
            "Lena",
            "Lea",
            "Hannah",
            "Sophie",
            "Marie",
            "Laura",
            "Julia",
            "Katharina",
            "Johanna",
            "Stefan",
            "Andreas",
            "Thomas",
            "Sabine",
            "Claudia",
            "Juergen",
            "Uwe",
            "Birgit",
            "Matthias",
            "Tobias",
        ],
        [
            "Mueller",
            "Schmidt",
            "Schneider",
            "Fischer",
            "Weber",
            "Meyer",
            "Wagner",
            "Becker",
            "Schulz",
            "Hoffmann",
            "Schaefer",
            "Koch",
            "Bauer",
            "Richter",
            "Klein",
            "Wolf",
            "Schroeder",
            "Neumann",
            "Schwarz",
            "Zimmermann",
            "Braun",
            "Krueger",
            "Hofmann",
            "Hartmann",
            "Lange",
            "Schmitt",
            "Werner",
            "Schmitz",
            "Krause",
            "Meier",
        ],
    ),
    "FR": (
        [
            "Camille",
            "Louis",
            "Lucas",
            "Chloe",
            "Manon",
            "Hugo",
            "Gabriel",
            "Jules",
            "Lea",
            "Ines",
            "Thomas",
            "Nicolas",
            "Julien",
            "Mathilde",
            "Antoine",
            "Pierre",
            "Sophie",
            "Claire",
            "Isabelle",
            "Francois",
            "Helene",
            "Emilie",
            "Marc",
            "Guillaume",
            "Celine",
            "Aurelie",
            "Vincent",
            "Laurent",
            "Nathalie",
            "Sylvie",
        ],
        [
            "Martin",
            "Bernard",
            "Dubois",
            "Thomas",
            "Robert",
            "Richard",
            "Petit",
            "Durand",
            "Leroy",
            "Moreau",
            "Simon",
            "Laurent",
            "Lefebvre",
            "Michel",
            "Garcia",
            "David",
            "Bertrand",
            "Roux",
            "Vincent",
            "Fournier",
            "Morel",
            "Girard",
            "Andre",
            "Lefevre",
            "Mercier",
            "Dupont",
            "Lambert",
            "Bonnet",
            "Francois",
            "Fontaine",
        ],
    ),
    "IN": (
        [
            "Aarav",
            "Vivaan",
            "Aditya",
            "Arjun",
            "Rohan",
            "Rahul",
            "Priya",
            "Ananya",
            "Diya",
            "Kavya",
            "Neha",
            "Pooja",
            "Sneha",
            "Vikram",
            "Sanjay",
            "Amit",
            "Anil",
            "Deepak",
            "Karthik",
            "Suresh",
            "Lakshmi",
            "Meera",
            "Divya",
            "Ishaan",
            "Nikhil",
            "Rajesh",
            "Sunita",
            "Swati",
            "Varun",
            "Harini",
        ],
        [
            "Sharma",
            "Patel",
            "Singh",
            "Kumar",
            "Gupta",
            "Reddy",
            "Iyer",
            "Nair",
            "Rao",
            "Mehta",
            "Shah",
            "Joshi",
            "Desai",
            "Menon",
            "Pillai",
            "Chopra",
            "Malhotra",
            "Agarwal",
            "Bhat",
            "Kulkarni",
            "Banerjee",
            "Chatterjee",
            "Mukherjee",
            "Das",
            "Verma",
            "Mishra",
            "Pandey",
            "Srinivasan",
            "Krishnan",
            "Ghosh",
        ],
    ),
    "BR": (
        [
            "Joao",
            "Pedro",
            "Lucas",
            "Gabriel",
            "Mateus",
            "Rafael",
            "Gustavo",
            "Felipe",
            "Bruno",
            "Thiago",
            "Ana",
            "Maria",
            "Juliana",
            "Fernanda",
            "Camila",
            "Beatriz",
            "Larissa",
            "Mariana",
            "Leticia",
            "Aline",
            "Carlos",
            "Eduardo",
            "Marcelo",
            "Ricardo",
            "Rodrigo",
            "Patricia",
            "Renata",
            "Vanessa",
            "Tatiana",
            "Luiza",
        ],
        [
            "Silva",
            "Santos",
            "Oliveira",
            "Souza",
            "Rodrigues",
            "Ferreira",
            "Alves",
            "Pereira",
            "Lima",
            "Gomes",
            "Costa",
            "Ribeiro",
            "Martins",
            "Carvalho",
            "Almeida",
            "Lopes",
            "Soares",
            "Fernandes",
            "Vieira",
            "Barbosa",
            "Rocha",
            "Dias",
            "Nascimento",
            "Andrade",
            "Moreira",
            "Nunes",
            "Marques",
            "Machado",
            "Mendes",
            "Freitas",
        ],
    ),
    "JP": (
        [
            "Haruto",
            "Yuto",
            "Sota",
            "Yuki",
            "Hayato",
            "Haruki",
            "Ren",
            "Kaito",
            "Takumi",
            "Riku",
            "Yui",
            "Hina",
            "Sakura",
            "Aoi",
            "Rin",
            "Mio",
            "Yuna",
            "Akari",
            "Emi",
            "Kenji",
            "Hiroshi",
            "Takeshi",
            "Naoko",
            "Keiko",
            "Yumiko",
            "Satoshi",
            "Daisuke",
            "Kazuki",
            "Shota",
            "Ayaka",
        ],
        [
            "Sato",
            "Suzuki",
            "Takahashi",
            "Tanaka",
            "Watanabe",
            "Ito",
            "Yamamoto",
            "Nakamura",
            "Kobayashi",
            "Kato",
            "Yoshida",
            "Yamada",
            "Sasaki",
            "Yamaguchi",
            "Matsumoto",
            "Inoue",
            "Kimura",
            "Hayashi",
            "Shimizu",
            "Yamazaki",
            "Mori",
            "Abe",
            "Ikeda",
            "Hashimoto",
            "Yamashita",
            "Ishikawa",
            "Nakajima",
            "Maeda",
            "Fujita",
            "Ogawa",
        ],
    ),
}


@dataclass(frozen=True)
class Department:
    name: str
    weight: int  # share of the workforce, in percent
    titles: tuple[tuple[str, int], ...]  # job title, relative frequency
    frontline: bool = False


DEPARTMENTS = (
    Department(
        "Sales",
        12,
        (
            ("Account Executive", 40),
            ("Sales Representative", 30),
            ("Sales Operations Analyst", 8),
            ("Sales Manager", 10),
            ("Regional Sales Director", 3),
        ),
    ),
    Department(
        "Marketing",
        6,
        (
            ("Marketing Specialist", 30),
            ("Content Strategist", 15),
            ("Digital Marketing Analyst", 20),
            ("Product Marketing Manager", 12),
            ("Marketing Director", 2),
        ),
    ),
    Department(
        "Engineering",
        15,
        (
            ("Software Engineer", 45),
            ("Senior Software Engineer", 25),
            ("QA Engineer", 10),
            ("DevOps Engineer", 8),
            ("Principal Engineer", 4),
            ("Engineering Manager", 8),
        ),
    ),
    Department(
        "Finance",
        6,
        (
            ("Financial Analyst", 35),
            ("Accountant", 25),
            ("Senior Accountant", 15),
            ("Payroll Specialist", 10),
            ("Finance Manager", 8),
            ("Controller", 3),
        ),
    ),
    Department(
        "Human Resources", 4, (("HR Generalist", 35), ("Recruiter", 30), ("HR Business Partner", 20), ("HR Manager", 8))
    ),
    Department(
        "Legal", 2, (("Paralegal", 35), ("Legal Counsel", 35), ("Compliance Officer", 20), ("General Counsel", 2))
    ),
    Department(
        "IT",
        4,
        (
            ("Service Desk Analyst", 35),
            ("Systems Administrator", 25),
            ("Security Analyst", 15),
            ("Network Engineer", 12),
            ("Cloud Architect", 6),
            ("IT Manager", 6),
        ),
    ),
    Department(
        "Customer Support",
        9,
        (
            ("Support Specialist", 55),
            ("Senior Support Specialist", 25),
            ("Support Team Lead", 10),
            ("Customer Success Manager", 10),
        ),
    ),
    Department(
        "Operations",
        7,
        (
            ("Operations Analyst", 35),
            ("Procurement Specialist", 25),
            ("Logistics Coordinator", 25),
            ("Operations Manager", 10),
        ),
    ),
    Department(
        "Research",
        5,
        (("Research Scientist", 40), ("Data Scientist", 30), ("Research Associate", 20), ("Lab Manager", 6)),
    ),
    Department(
        "Executive Office",
        1,
        (("Vice President", 50), ("Senior Vice President", 15), ("Executive Assistant", 30), ("Chief of Staff", 5)),
    ),
    Department(
        "Retail",
        20,
        (
            ("Sales Associate", 60),
            ("Cashier", 20),
            ("Visual Merchandiser", 6),
            ("Assistant Store Manager", 8),
            ("Store Manager", 6),
        ),
        frontline=True,
    ),
    Department(
        "Warehouse",
        9,
        (("Warehouse Associate", 60), ("Forklift Operator", 20), ("Inventory Clerk", 12), ("Shift Supervisor", 8)),
        frontline=True,
    ),
)
DEPARTMENT = {department.name: department for department in DEPARTMENTS}
LEADER_WORDS = ("Manager", "Director", "Lead", "Vice President", "Chief", "Supervisor", "General Counsel")
STORE_MANAGERS = ("Store Manager", "Assistant Store Manager")
PRIVILEGED = ("IT", "Executive Office")  # everyone there is in the EMS E5 group, so no scenario is cast from them
OFFICE_LOCATIONS = (("US", 56), ("GB", 9), ("DE", 7), ("FR", 5), ("IN", 11), ("BR", 4), ("JP", 4), (None, 4))
STORE_LOCATIONS = (("US", 70), ("GB", 12), ("DE", 10), ("FR", 6), (None, 2))


@dataclass
class Person:
    user_id: str
    given: str
    surname: str
    upn: str
    department: str
    job_title: str
    usage_location: str | None

    @property
    def display_name(self) -> str:
        return f"{self.given} {self.surname}"

    @property
    def frontline(self) -> bool:
        return DEPARTMENT[self.department].frontline

    @property
    def leader(self) -> bool:
        return any(word in self.job_title for word in LEADER_WORDS)

    @property
    def store_manager(self) -> bool:
        return self.job_title in STORE_MANAGERS

    def created(self) -> dict[str, Any]:
        # department and jobTitle are Graph user properties the engine ignores; they make the data self-explaining.
        return {
            "userId": self.user_id,
            "userPrincipalName": self.upn,
            "displayName": self.display_name,
            "department": self.department,
            "jobTitle": self.job_title,
            "usageLocation": self.usage_location,
            "proxyAddresses": [f"SMTP:{self.upn}"],
            "accountEnabled": True,
        }


@dataclass(frozen=True)
class Group:
    group_id: str
    display_name: str
    kind: str = "security"
    security_enabled: bool = True


Step = tuple[str, str, dict[str, Any]]  # (source, type, data)
Story = list[tuple[int, Step]]  # one storyline: (working day, step); steps of the same day keep their order


def generate_demo_events(seed: int = 7, users: int = 3000, tenant: str = "contoso") -> list[dict[str, Any]]:
    """A realistic tenant as CloudEvents input events (CONTRACT §1–§2), in log order."""
    if users < MIN_USERS:
        raise ValueError(f"the demo tenant needs at least {MIN_USERS} users, got {users}")
    return _DemoTenant(random.Random(seed), users, tenant).events()


def write_jsonl(events: Iterable[dict[str, Any]], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as out:
        for event in events:
            out.write(json.dumps(event, ensure_ascii=False, separators=(",", ":")) + "\n")


def _join(source: str, group: Group, person: Person) -> Step:
    return (source, "GroupMemberAdded", {"groupId": group.group_id, "memberId": person.user_id})


def _leave(source: str, group: Group, person: Person) -> Step:
    return (source, "GroupMemberRemoved", {"groupId": group.group_id, "memberId": person.user_id})


def _licenses(add: Iterable[tuple[str, list[str]]] = (), remove: Iterable[str] = ()) -> dict[str, Any]:
    return {
        "addLicenses": [{"skuId": sku, "disabledPlans": disabled} for sku, disabled in add],
        "removeLicenses": list(remove),
    }


def _group_licenses(group: Group, add: Iterable[tuple[str, list[str]]] = (), remove: Iterable[str] = ()) -> Step:
    return (ADMIN, "GroupLicensesChanged", {"groupId": group.group_id, **_licenses(add, remove)})


def _user_licenses(person: Person, add: Iterable[tuple[str, list[str]]] = (), remove: Iterable[str] = ()) -> Step:
    return (ADMIN, "UserLicensesChanged", {"userId": person.user_id, **_licenses(add, remove)})


def _reprocess(target: Person | Group) -> Step:
    data = {"userId": target.user_id} if isinstance(target, Person) else {"groupId": target.group_id}
    return (ADMIN, "LicenseReprocessRequested", data)


def _seats(needed: int) -> int:
    """What a buyer orders for `needed` users: a little headroom, rounded to the usual order steps."""
    step = 50 if needed >= 500 else 10 if needed >= 50 else 5
    return -(-(needed + max(3, needed // 40)) // step) * step


def _interleave(rng: random.Random, queues: list[list[Step]]) -> Iterator[Step]:
    """Merge storylines of one day, keeping each one's order; longer ones are picked more often so they spread."""
    pending = [list(reversed(queue)) for queue in queues if queue]
    while pending:
        index = rng.choices(range(len(pending)), weights=[len(queue) for queue in pending])[0]
        yield pending[index].pop()
        if not pending[index]:
            del pending[index]


class _EventLog:
    def __init__(self, rng: random.Random, tenant: str) -> None:
        self.rng = rng
        self.tenant = tenant
        self.clock = START
        self.events: list[dict[str, Any]] = []

    def start_day(self, day: int) -> None:
        date = START
        for _ in range(day):  # working days only: skip the weekend
            date += timedelta(days=3 if date.weekday() == 4 else 1)
        self.clock = max(self.clock, date + timedelta(minutes=self.rng.randint(0, 50)))

    def emit(self, source: str, type_: str, data: dict[str, Any]) -> None:
        self.clock += timedelta(seconds=self.rng.randint(1, 4))
        self.events.append(
            {
                "specversion": "1.0",
                "id": f"{self.tenant}-{len(self.events) + 1:07d}",
                "source": source,
                "type": type_,
                "time": self.clock.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "tenant": self.tenant,
                "datacontenttype": "application/json",
                "data": data,
            }
        )


class _DemoTenant:
    """Plans the whole tenant first (people, scenario casts, groups, seats), then writes the log."""

    def __init__(self, rng: random.Random, users: int, tenant: str) -> None:
        self.rng = rng
        self.domain = f"{tenant}.com"
        self.log = _EventLog(rng, tenant)
        self.upns: set[str] = set()  # membership tests only, never iterated
        self.taken: set[str] = set()  # user ids already cast in a scenario; never iterated
        self.groups: dict[str, Group] = {}

        self.hires = [self._new_person() for _ in range(max(3, users // 150))]
        self.fabrikam = [
            self._new_person(
                self.rng.choice(("Engineering", "Sales", "Marketing")), self.rng.choice(("US", "US", "DE", "GB"))
            )
            for _ in range(5)
        ]
        self.sales_aliased = [self._new_person("Sales", "US") for _ in range(4)]
        self.support_aliased = [self._new_person("Customer Support", "US") for _ in range(2)]
        late = len(self.hires) + len(self.fabrikam) + len(self.sales_aliased) + len(self.support_aliased)
        self.staff = [self._new_person() for _ in range(users - late)]
        self._cast_scenarios(users)
        self._create_groups()
        self._plan_admin_groups()
        self._cast_daily_life()

    # ---- people ----------------------------------------------------------------------------------------------

    def _new_person(self, department: str | None = None, location: str | None = None) -> Person:
        rng = self.rng
        dept = DEPARTMENT[department] if department else rng.choices(DEPARTMENTS, [d.weight for d in DEPARTMENTS])[0]
        titles = [title for title, _ in dept.titles]
        title = rng.choices(titles, [weight for _, weight in dept.titles])[0]
        if location is None and department is None:
            places = STORE_LOCATIONS if dept.frontline else OFFICE_LOCATIONS
            location = rng.choices([p for p, _ in places], [w for _, w in places])[0]
        # Names follow the office country; a tenth of US/UK staff come from everywhere, as in any large company.
        region = location if location in NAMES else "anglo"
        if region == "anglo" and rng.random() < 0.1:
            region = rng.choice(sorted(NAMES))
        given, surname = rng.choice(NAMES[region][0]), rng.choice(NAMES[region][1])
        return Person(self._uuid(), given, surname, self._upn(given, surname), dept.name, title, location)

    def _upn(self, given: str, surname: str) -> str:
        base = f"{given}.{surname}".lower()
        candidates = [base, f"{given}.{self.rng.choice('abcdefghjklmnprstw')}.{surname}".lower()]
        candidates += [f"{base}{n}" for n in range(2, 1000)]
        upn = next(f"{c}@{self.domain}" for c in candidates if f"{c}@{self.domain}" not in self.upns)
        self.upns.add(upn)
        return upn

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _cast(
        self, k: int, eligible: Callable[[Person], bool], prefer: Callable[[Person], bool] = lambda p: True
    ) -> list[Person]:
        """k distinct, not yet cast employees; those that already fit the story best are preferred."""
        free = [p for p in self.staff if p.user_id not in self.taken and eligible(p)]
        best = [p for p in free if prefer(p)]
        chosen = self.rng.sample(best, min(k, len(best)))
        chosen += self.rng.sample([p for p in free if not prefer(p)], k - len(chosen))
        self.taken.update(p.user_id for p in chosen)
        return chosen

    def _cast_scenarios(self, users: int) -> None:
        def office(*departments: str) -> Callable[[Person], bool]:
            return lambda p: p.department in departments

        def located(p: Person) -> bool:
            return p.usage_location is not None

        plain_office = office(
            "Sales",
            "Marketing",
            "Engineering",
            "Finance",
            "Human Resources",
            "Legal",
            "Customer Support",
            "Operations",
            "Research",
        )
        # Stories are cast on people whose other memberships cannot interfere with them (no IT/executives).
        self.sales_alias_owner = self._cast(1, office("Sales"), lambda p: p.job_title == "Sales Operations Analyst")
        self.support_alias_owner = self._cast(1, office("Customer Support"), lambda p: p.leader)
        # Skype must come from "All Staff E3" only, and no other add-on may depend on that group's Exchange plan.
        self.audio_leavers = self._cast(
            4, office("Marketing", "Engineering", "Operations", "Research", "Human Resources"), located
        )
        self.relocating = self._cast(1, office("Customer Support"), lambda p: p.usage_location == "US")
        self.offshore_support = self._cast(3, office("Customer Support"), lambda p: p.usage_location in OFFSHORE)
        self.offshore_sales = self._cast(2, office("Sales"), lambda p: p.usage_location in ("IN", "JP"))
        self.no_location = self._cast(
            3, office("Marketing", "Engineering", "Operations", "Research"), lambda p: p.usage_location is None
        )
        self.inherited_remover = self._cast(1, plain_office)
        self.e1_requester = self._cast(1, plain_office, located)
        self.direct_power_bi = self._cast(5, office("Finance", "Operations", "Research", "Engineering"), located)
        self.transfers = self._cast(3, lambda p: p.frontline and not p.store_manager, located)
        self.project_managers = self._cast(
            max(12, users // 80), office("Engineering", "Operations", "Research", "Marketing")
        )
        self.pilot = self._cast(8, lambda p: p.frontline and not p.store_manager)
        # Small tenants may lack people who fit a story; move them so the story still happens.
        for person in self.relocating:
            person.usage_location = "US"
        for person, place in zip(self.offshore_support + self.offshore_sales, OFFSHORE + ("IN", "JP")):
            if person.usage_location not in OFFSHORE:
                person.usage_location = place
        for person in self.no_location:
            person.usage_location = None
        for person in self.audio_leavers + self.e1_requester + self.direct_power_bi + self.transfers:
            person.usage_location = person.usage_location or "US"

    # ---- groups ----------------------------------------------------------------------------------------------

    def _create_groups(self) -> None:
        def add(key: str, name: str, kind: str = "security", security_enabled: bool = True) -> None:
            self.groups[key] = Group(self._uuid(), name, kind, security_enabled)

        for dept in DEPARTMENTS:
            add(dept.name, f"Dept - {dept.name}")
        add("staff", "All Staff E3")
        add("frontline", "Frontline E1")
        add("store", "Store Managers")
        add("ems", "EMS Security")
        add("e5", "IT & Executives - E3 + EMS E5")
        add("audio", "Audio Conferencing")
        add("pm", "Project Managers")
        add("call-us", "Calling Plan US")
        add("call-eu", "Calling Plan EU")
        add("bi", "Power BI Users")
        add("analysts", "Finance Analysts")
        add("sales-dynamic", "Sales Team (dynamic: department eq Sales)")
        add("archive", "Exchange Online Archiving")
        add("pilot", "Legacy - E1 Pilot 2019")
        add("vpn", "VPN Users")
        add("phoenix", "Project Phoenix")
        add("leaders", "People Leaders", kind="distribution", security_enabled=False)
        add("marketing-m365", "Marketing Team", kind="m365", security_enabled=False)

    def _hr_groups(self, person: Person) -> list[Group]:
        """Groups HR sync maintains from department and title (the dynamic-rule style memberships)."""
        g = self.groups
        keys = [person.department]
        if person.frontline:
            keys.append("store" if person.store_manager else "frontline")
        else:
            keys += ["staff", "ems"]
        keys += [
            key
            for key, rule in (
                ("sales-dynamic", person.department == "Sales"),
                ("vpn", person.department in ("Engineering", "IT")),
                ("marketing-m365", person.department == "Marketing"),
                ("leaders", person.leader),
            )
            if rule
        ]
        return [g[key] for key in keys]

    def _plan_admin_groups(self) -> None:
        """Members the admins pick by hand; scenario casts are kept out so that each story stays readable."""
        free = [p for p in self.staff if p.user_id not in self.taken]
        self.e5 = [p for p in self.staff if p.department in PRIVILEGED]
        # A small company's IT is a handful of people; its engineering leads administer the cloud as well.
        self.e5 += [p for p in free if p.department == "Engineering"][: max(0, 2 * EMS5_SHORTFALL - len(self.e5))]
        self.audio = [p for p in free if p.leader and p.department in ("Sales", "Marketing", "Executive Office")]
        self.archive = [
            p
            for p in free
            if p.department in ("Legal", "Executive Office") or p.job_title in ("Controller", "Finance Manager")
        ]
        self.analysts = [p for p in self.staff if p.job_title == "Financial Analyst"]
        self.bi = [
            p for p in free if p.job_title in ("Digital Marketing Analyst", "Data Scientist", "Operations Analyst")
        ]
        call_us = [p for p in free if p.department == "Customer Support" and p.usage_location in ("US", None)]
        call_eu = [p for p in free if p.department == "Sales" and p.usage_location in ("GB", "DE", "FR")]
        # The offshore people come in with the rest of their team, in no particular place in the list.
        self.call_us = self._mix(call_us + self.relocating + self.offshore_support)
        self.call_eu = self._mix(call_eu + self.offshore_sales)
        self.phoenix = self.rng.sample([p for p in free if p.department == "Engineering"], 6)
        self.managed = {
            p.user_id
            for group in (self.e5, self.audio, self.archive, self.bi, self.call_us, self.call_eu, self.phoenix)
            for p in group
        }

    def _mix(self, people: list[Person]) -> list[Person]:
        return self.rng.sample(people, len(people))

    # ---- ordinary changes ------------------------------------------------------------------------------------

    def _cast_daily_life(self) -> None:
        quiet = [p for p in self.staff if p.user_id not in self.taken and p.user_id not in self.managed]
        self.rng.shuffle(quiet)
        leavers = max(4, len(self.staff) * 3 // 200)
        renames = max(2, len(self.staff) // 150)
        self.leavers, quiet = quiet[:leavers], quiet[leavers:]
        self.renamed, quiet = quiet[:renames], quiet[renames:]
        self.to_sales = [p for p in quiet if p.department == "Marketing"][:2]
        self.from_sales = [p for p in quiet if p.department == "Sales"][:1]
        self.located_later = [p for p in quiet if p.usage_location is None and not p.frontline][:5]
        quiet_managed = [p for p in self.bi + self.call_us if p.user_id not in self.taken and p.usage_location]
        self.bi_dropped = [p for p in quiet_managed if p in self.bi][:2]
        self.call_dropped = [p for p in quiet_managed if p in self.call_us][:2]

    # ---- seats -----------------------------------------------------------------------------------------------

    def _subscriptions(self) -> list[tuple[str, int]]:
        office = [
            p
            for p in self.staff + self.hires + self.sales_aliased + self.support_aliased + self.fabrikam
            if not p.frontline
        ] + self.transfers
        frontline = [p for p in self.staff + self.hires if p.frontline]
        sales = [p for p in self.staff + self.hires + self.sales_aliased + self.fabrikam if p.department == "Sales"]
        power_bi = sales + self.bi + self.direct_power_bi + self.no_location[:1] + self.to_sales
        return [
            (E3, _seats(len(office) + sum(p.store_manager for p in frontline))),
            (E1, _seats(len(frontline) + len(self.fabrikam))),
            (EMS, _seats(len(office))),
            (EMS5, len(self.e5) - EMS5_SHORTFALL),
            (AUDIO, _seats(len(self.audio) + len(self.audio_leavers))),
            (PROJECT, len(self.project_managers) - PROJECT_SHORTFALL),
            (CALLING, _seats(len(self.call_us) + len(self.call_eu))),
            (POWER_BI, _seats(len({p.user_id: p for p in power_bi}))),
            (ARCHIVING, _seats(len(self.archive))),
        ]

    # ---- the log ---------------------------------------------------------------------------------------------

    def events(self) -> list[dict[str, Any]]:
        self._initial_load()
        storylines = [
            self._teams_phone_rollout(),
            self._project_office(),
            self._audio_leavers(),
            self._shared_aliases(),
            self._fabrikam_acquisition(),
            self._store_manager_upgrade(),
            self._group_cleanup(),
            self._helpdesk_tickets(),
            self._transfers(),
            self._sales_moves(),
            *(self._new_hire(person) for person in self.hires),
            *(self._leaver(person) for person in self.leavers),
            *(self._rename(person) for person in self.renamed),
        ]
        by_day: dict[int, list[list[Step]]] = {}
        for story in storylines:
            for day in sorted({day for day, _ in story}):
                by_day.setdefault(day, []).append([step for d, step in story if d == day])
        for day in sorted(by_day):
            self.log.start_day(day)
            for step in _interleave(self.rng, by_day[day]):
                self.log.emit(*step)
        return self.log.events

    def _initial_load(self) -> None:
        emit, g = self.log.emit, self.groups
        emit(ADMIN, "TenantConfigured", {"countryLetterCode": "US", "mode": "faithful", "ruleset": "classic-2019"})
        for sku, enabled in self._subscriptions():
            emit(BILLING, "SubscriptionChanged", {"skuId": sku, "prepaidUnits": {"enabled": enabled}, "version": 1})
        for person in self.staff:
            emit(HR, "UserCreated", person.created())
        for group in self.groups.values():
            emit(
                ADMIN,
                "GroupCreated",
                {
                    "groupId": group.group_id,
                    "displayName": group.display_name,
                    "kind": group.kind,
                    "securityEnabled": group.security_enabled,
                },
            )
        for person in self.staff:
            for group in self._hr_groups(person):
                emit(*_join(HR, group, person))
        manual = [
            ("e5", self.e5),
            ("audio", self.audio),
            ("archive", self.archive),
            ("analysts", self.analysts),
            ("bi", self.bi),
            ("pilot", self.pilot),
            ("phoenix", self.phoenix),
        ]
        for key, members in manual:
            for person in members:
                emit(*_join(ADMIN, g[key], person))
        # The admin nests "Finance Analysts" into "Power BI Users"; nested members get nothing (SPEC S49).
        emit(
            ADMIN,
            "GroupMemberAdded",
            {"groupId": g["bi"].group_id, "memberId": g["analysts"].group_id, "memberType": "group"},
        )
        # Licences go on after the members are in, each one a group pass.
        for step in (
            _group_licenses(g["staff"], [(E3, STAFF_E3_DISABLED)]),
            _group_licenses(g["frontline"], [(E1, [])]),
            _group_licenses(g["store"], [(E1, [])]),
            _group_licenses(g["pilot"], [(E1, [])]),
            _group_licenses(g["ems"], [(EMS, [])]),
            _group_licenses(g["sales-dynamic"], [(POWER_BI, [])]),
            _group_licenses(g["bi"], [(POWER_BI, [])]),
            _group_licenses(g["archive"], [(E3, EXCHANGE_ONLY_E3_DISABLED), (ARCHIVING, [])]),
            _group_licenses(g["e5"], [(E3, []), (EMS5, [])]),
            # Rejected: Audio Conferencing alone lacks its Skype prerequisite inside the group (SPEC S28) ...
            _group_licenses(g["audio"], [(AUDIO, [])]),
            # ... so the admin bundles a Skype-only E3 with it, the documented pattern (SPEC S29).
            _group_licenses(g["audio"], [(E3, SKYPE_ONLY_E3_DISABLED), (AUDIO, [])]),
            _group_licenses(g["call-us"], [(CALLING, [])]),
            _group_licenses(g["call-eu"], [(CALLING, [])]),
            _group_licenses(g["pm"], [(PROJECT, [])]),
        ):
            emit(*step)

    def _spread(self, people: list[Person], first: int, last: int) -> list[int]:
        return sorted(self.rng.randint(first, last) for _ in people)

    def _teams_phone_rollout(self) -> Story:
        g = self.groups
        story: Story = [(1, _join(ADMIN, g["call-us"], p)) for p in self.call_us]
        story += [(2, _join(ADMIN, g["call-eu"], p)) for p in self.call_eu]
        # An agent moves to the Bangalore office; the helpdesk reprocesses her the next day (SPEC S40).
        agent = self.relocating[0]
        story += [(9, (HR, "UserUpdated", {"userId": agent.user_id, "usageLocation": "IN"})), (10, _reprocess(agent))]
        story += [(day, _leave(ADMIN, g["call-us"], p)) for day, p in zip((7, 11), self.call_dropped)]
        return story

    def _project_office(self) -> Story:
        pm = self.groups["pm"]
        days = self._spread(self.project_managers, 1, 10)
        story: Story = [(day, _join(ADMIN, pm, p)) for day, p in zip(days, self.project_managers)]
        bought = len(self.project_managers) - PROJECT_SHORTFALL + PROJECT_PURCHASE
        story.append(
            (
                12,
                (BILLING, "SubscriptionChanged", {"skuId": PROJECT, "prepaidUnits": {"enabled": bought}, "version": 2}),
            )
        )
        # Faithful mode does not hand out bought seats by itself; the admin reprocesses the group (SPEC S08/S14).
        story.append((12, _reprocess(pm)))
        return story

    def _audio_leavers(self) -> Story:
        """Direct Audio Conferencing on top of the group's Skype; at offboarding the E3 removal is blocked (S31)."""
        story: Story = []
        for person, granted, leaves in zip(self.audio_leavers, (2, 3, 3, 4), (11, 11, 12, 13)):
            story.append((granted, _user_licenses(person, [(AUDIO, [])])))
            story += [(leaves, step) for step in self._offboarding(person)]
        return story

    def _shared_aliases(self) -> Story:
        """Helpdesk copies shared aliases onto new hires before HR adds them to the E3 group (SPEC S41/S42)."""
        story: Story = []
        for owner, alias, hires in (
            (self.sales_alias_owner[0], "sales", self.sales_aliased),
            (self.support_alias_owner[0], "support", self.support_aliased),
        ):
            address = f"smtp:{alias}@{self.domain}"
            story.append(
                (2, (ADMIN, "UserUpdated", {"userId": owner.user_id, "proxyAddresses": [f"SMTP:{owner.upn}", address]}))
            )
            for hire in hires:
                story.append((6, (HR, "UserCreated", hire.created())))
                story.append(
                    (
                        6,
                        (
                            ADMIN,
                            "UserUpdated",
                            {"userId": hire.user_id, "proxyAddresses": [f"SMTP:{hire.upn}", address]},
                        ),
                    )
                )
                story += [(7, _join(HR, group, hire)) for group in self._hr_groups(hire)]
        # One of them opens a ticket: the alias is removed and the user reprocessed, which heals only him.
        fixed = self.sales_aliased[0]
        story.append((12, (ADMIN, "UserUpdated", {"userId": fixed.user_id, "proxyAddresses": [f"SMTP:{fixed.upn}"]})))
        story.append((12, _reprocess(fixed)))
        return story

    def _fabrikam_acquisition(self) -> Story:
        """Acquired staff keep their direct E1 until HR sync puts them in "All Staff E3" (SPEC S16, S18)."""
        story: Story = [(3, (HR, "UserCreated", p.created())) for p in self.fabrikam]
        story += [(3, _user_licenses(p, [(E1, [])])) for p in self.fabrikam]
        story += [(5, _join(HR, group, p)) for p in self.fabrikam for group in self._hr_groups(p)]
        fixed = self.fabrikam[0]
        story += [(13, _user_licenses(fixed, remove=[E1])), (13, _reprocess(fixed))]
        return story

    def _store_manager_upgrade(self) -> Story:
        # E1 → E3 in one command: removals first, so no plan collision for anyone (SPEC S26).
        return [(8, _group_licenses(self.groups["store"], [(E3, STAFF_E3_DISABLED)], remove=[E1]))]

    def _group_cleanup(self) -> Story:
        g = self.groups
        return [
            (2, _group_licenses(g["leaders"], [(E3, [])])),  # rejected: distribution lists cannot be licensed
            (6, (ADMIN, "GroupDeleted", {"groupId": g["pilot"].group_id})),  # rejected: still has E1
            (14, _group_licenses(g["pilot"], remove=[E1])),  # members keep E1 from "Frontline E1"
            (14, (ADMIN, "GroupDeleted", {"groupId": g["pilot"].group_id})),
            (14, (ADMIN, "GroupDeleted", {"groupId": g["phoenix"].group_id})),  # project over, never licensed
        ]

    def _helpdesk_tickets(self) -> Story:
        story: Story = [(4, _user_licenses(p, [(POWER_BI, [])])) for p in self.no_location]  # rejected: no location
        first = self.no_location[0]
        story += [
            (7, (HR, "UserUpdated", {"userId": first.user_id, "usageLocation": "US"})),
            (7, _user_licenses(first, [(POWER_BI, [])])),
        ]
        story.append((5, _user_licenses(self.inherited_remover[0], remove=[E3])))  # rejected: inherited
        story.append((9, _user_licenses(self.e1_requester[0], [(E1, [])])))  # rejected: clashes with E3
        days = self._spread(self.direct_power_bi, 2, 12)
        story += [(day, _user_licenses(p, [(POWER_BI, [])])) for day, p in zip(days, self.direct_power_bi)]
        days = self._spread(self.located_later, 1, 14)
        story += [
            (day, (HR, "UserUpdated", {"userId": p.user_id, "usageLocation": "US"}))
            for day, p in zip(days, self.located_later)
        ]
        story += [(day, _leave(ADMIN, self.groups["bi"], p)) for day, p in zip((6, 10), self.bi_dropped)]
        return story

    def _transfers(self) -> Story:
        """Store staff move to Operations. When HR adds before the dynamic rule removes, E3 collides with E1
        until the removal re-evaluates the user (SPEC S19); the last transfer happens in the clean order."""
        g = self.groups
        story: Story = []
        for day, person, add_first in zip((5, 7, 10), self.transfers, (True, True, False)):
            move = (
                HR,
                "UserUpdated",
                {"userId": person.user_id, "department": "Operations", "jobTitle": "Operations Analyst"},
            )
            leave = [_leave(HR, g["frontline"], person), _leave(HR, g[person.department], person)]
            join = [_join(HR, g[key], person) for key in ("Operations", "staff", "ems")]
            story += [(day, step) for step in [move, *(join + leave if add_first else leave + join)]]
        return story

    def _sales_moves(self) -> Story:
        """Department changes that the dynamic "Sales Team" rule follows: Power BI Pro comes and goes with it."""
        g = self.groups
        story: Story = []
        for person, target, title in [(p, "Sales", "Account Executive") for p in self.to_sales] + [
            (p, "Marketing", "Marketing Specialist") for p in self.from_sales
        ]:
            old, new = ("marketing-m365", "sales-dynamic") if target == "Sales" else ("sales-dynamic", "marketing-m365")
            day = self.rng.randint(3, 12)
            story += [
                (day, (HR, "UserUpdated", {"userId": person.user_id, "department": target, "jobTitle": title})),
                (day, _leave(HR, g[person.department], person)),
                (day, _leave(HR, g[old], person)),
                (day, _join(HR, g[target], person)),
                (day, _join(HR, g[new], person)),
            ]
        return story

    def _new_hire(self, person: Person) -> Story:
        day = self.rng.randint(1, 14)
        return [(day, (HR, "UserCreated", person.created()))] + [
            (day, _join(HR, group, person)) for group in self._hr_groups(person)
        ]

    def _offboarding(self, person: Person) -> list[Step]:
        disable = (HR, "UserUpdated", {"userId": person.user_id, "accountEnabled": False})
        return [disable, *(_leave(HR, group, person) for group in reversed(self._hr_groups(person)))]

    def _leaver(self, person: Person) -> Story:
        day = self.rng.randint(1, 13)
        roll = self.rng.random()
        if roll < 0.3:  # disabled but forgotten in its groups: licences keep costing money (SPEC S61)
            return [(day, (HR, "UserUpdated", {"userId": person.user_id, "accountEnabled": False}))]
        story: Story = [(day, step) for step in self._offboarding(person)]
        if roll > 0.7:
            story.append((min(day + 2, WORKING_DAYS), (HR, "UserDeleted", {"userId": person.user_id})))
        return story

    def _rename(self, person: Person) -> Story:
        surname = self.rng.choice([name for name in NAMES["anglo"][1] if name != person.surname])
        return [
            (
                self.rng.randint(1, WORKING_DAYS),
                (HR, "UserUpdated", {"userId": person.user_id, "displayName": f"{person.given} {surname}"}),
            )
        ]


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: python demo_tenant.py OUT.jsonl [USERS]")
    write_jsonl(generate_demo_events(users=int(sys.argv[2]) if len(sys.argv) == 3 else 3000), Path(sys.argv[1]))
